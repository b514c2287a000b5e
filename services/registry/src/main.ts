/** Composition root of the registry process: configuration from the environment, start, stop on a signal. */
import { loadConfig, start } from './index';

try {
  const registry = await start(loadConfig(process.env));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void registry.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  process.stderr.write(`meshgate registry: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
