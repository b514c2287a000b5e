/**
 * The router process: load the configuration once, start one replica, stop it on SIGTERM/SIGINT.
 */
import { loadConfig, start } from './index';

const router = await start(loadConfig(process.env));
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`router ${router.instanceId}: ${signal}, stopping`);
  router.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
