/**
 * Process entry of the ingress service: configuration from the environment, `start`, and a graceful
 * `stop` on SIGTERM or SIGINT. Nothing else lives here.
 */
import { loadConfig } from './config';
import { start } from './service';

try {
  const handle = await start(loadConfig(process.env));
  handle.app.log.info({ url: handle.url }, 'ingress listening');
  const shutdown = (signal: string) => {
    handle.app.log.info({ signal }, 'ingress stopping');
    handle.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        handle.app.log.error({ err }, 'ingress did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
