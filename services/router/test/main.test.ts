/**
 * The process launcher: `main.ts` starts a replica from the environment, answers on NATS, and exits 0
 * on SIGTERM after stopping.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Bus } from '@meshgate/bus';
import { RouterReply, Subjects } from '@meshgate/contracts';
import { eventually, newSession } from './harness';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

describe('main', () => {
  it('serves calls and stops cleanly on SIGTERM', async () => {
    const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
    const instance = `router-main-${process.pid}`;
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        ...process.env,
        NATS_URL: natsUrl,
        INSTANCE_ID: instance,
        LOG_LEVEL: 'silent',
        MESHGATE_AUDIT: 'off',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const bus = await Bus.connect({ url: natsUrl, name: 'router-main-test' });
    try {
      const call = {
        v: 1,
        session: newSession({ kind: 'federated' }),
        message: { jsonrpc: '2.0', id: 1, method: 'ping' },
      };
      const reply = await eventually(
        () =>
          bus
            .request(Subjects.routerInstanceCall(instance), call, RouterReply, { timeoutMs: 500 })
            .catch(() => undefined),
        10_000,
      );
      expect(reply).toEqual({ v: 1, router: instance, message: { jsonrpc: '2.0', id: 1, result: {} } });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await bus.close();
    }
  });
});
