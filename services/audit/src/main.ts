/** Composition root of the audit archiver process: configuration from the environment, start, stop on a signal. */
import { loadConfig, start } from './index';

try {
  const audit = await start(loadConfig(process.env));
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
