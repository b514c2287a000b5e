/**
 * Composition root of the audit archiver process: configuration from the environment, the process's
 * niceness (the archiver gives way to the request path on shared cores), start, stop on a signal.
 */
import { setPriority } from 'node:os';
import { loadConfig, start } from './index';

try {
  const config = loadConfig(process.env);
  try {
    if (config.nice > 0) setPriority(config.nice);
  } catch (err) {
    process.stderr.write(`meshgate audit: niceness ${config.nice} not taken: ${(err as Error).message}\n`);
  }
  const audit = await start(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void audit.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  process.stderr.write(`meshgate audit: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
