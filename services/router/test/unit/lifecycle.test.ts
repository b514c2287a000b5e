import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Lifecycle, type LifecycleEvents } from '../../src/upstream/lifecycle';

const log = pino({ level: 'silent' });

/** A lifecycle whose connect attempts follow a script: 'fail' rejects, 'ok' succeeds. */
function scripted(script: ('fail' | 'ok')[]) {
  const attempts: LifecycleEvents[] = [];
  const downs: string[] = [];
  let readies = 0;
  const lifecycle = new Lifecycle({
    log,
    backoffMaxMs: 1000,
    connect: async (events) => {
      attempts.push(events);
      if ((script[attempts.length - 1] ?? 'ok') === 'fail')
        throw new Error(`attempt ${attempts.length} failed`);
    },
    ready: () => void readies++,
    down: async (reason) => void downs.push(reason),
  });
  return { lifecycle, attempts, downs, readies: () => readies };
}

describe('Lifecycle', () => {
  it('waits for the first connection, then answers at once', async () => {
    const { lifecycle, readies } = scripted(['ok']);
    lifecycle.start();
    await lifecycle.whenReady(Date.now() + 1000);
    expect(readies()).toBe(1);
    await lifecycle.whenReady(Date.now());
    await lifecycle.stop();
  });

  it('fails fast with the error of a failed attempt, and recovers after the backoff', async () => {
    const { lifecycle, attempts } = scripted(['fail', 'ok']);
    lifecycle.start();
    await expect(lifecycle.whenReady(Date.now() + 1000)).rejects.toThrow('attempt 1 failed');
    await new Promise((r) => setTimeout(r, 20));
    await expect(lifecycle.whenReady(Date.now() + 1000)).rejects.toThrow('attempt 1 failed');
    await new Promise((r) => setTimeout(r, 300));
    await lifecycle.whenReady(Date.now() + 1000);
    expect(attempts).toHaveLength(2);
    await lifecycle.stop();
  });

  it('reconnects after the transport closes; callers meanwhile wait instead of failing', async () => {
    const { lifecycle, attempts, downs } = scripted(['ok', 'ok']);
    lifecycle.start();
    await lifecycle.whenReady(Date.now() + 1000);
    attempts[0]!.closed('process exited');
    await new Promise((r) => setTimeout(r, 0));
    expect(attempts[0]!.isCurrent()).toBe(false);
    await lifecycle.whenReady(Date.now() + 2000);
    expect(downs).toEqual(['process exited']);
    expect(attempts).toHaveLength(2);
    await lifecycle.stop();
  });

  it('stops for good: waiters are rejected and no attempt follows', async () => {
    const { lifecycle, attempts, downs } = scripted(['fail']);
    lifecycle.start();
    await new Promise((r) => setTimeout(r, 20));
    await lifecycle.stop();
    await expect(lifecycle.whenReady(Date.now() + 1000)).rejects.toThrow('connection closed');
    await new Promise((r) => setTimeout(r, 400));
    expect(attempts).toHaveLength(1);
    expect(downs).toEqual(['attempt 1 failed']);
  });
});
