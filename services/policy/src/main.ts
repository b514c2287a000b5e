/** Composition root of the policy service process: configuration from the environment, start, stop on a signal. */
import { loadConfig, start } from './index';

try {
  const policy = await start(loadConfig(process.env));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void policy.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  process.stderr.write(`meshgate policy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
