// Shared vitest settings: every project runs its tests against one real NATS provided by the global setup.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export function projectConfig(opts: { timeoutMs?: number; root: string }) {
  return defineConfig({
    test: {
      root: opts.root,
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      globalSetup: [fileURLToPath(new URL('./libs/testing/src/global-setup.ts', import.meta.url))],
      testTimeout: opts.timeoutMs ?? 20_000,
      hookTimeout: 60_000,
      pool: 'forks',
      fileParallelism: false,
    },
  });
}
