/**
 * Sessions an agent abandoned without DELETE: once no call reached one for the idle limit, the replica
 * releases it, and with it the upstream process of a stateful server; a session still in use keeps its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  newSession,
  resultOf,
  startHarness,
  stdioFixture,
  uniqueName,
  type Harness,
} from './harness';

let h: Harness;
const own = uniqueName('idle');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  h = await startHarness({ sessionIdleMs: 1500 });
  await h.put(stdioFixture(own, 'a', { stateful: true }));
});
afterAll(async () => {
  await h?.close();
});

const pidOf = async (s: ReturnType<typeof newSession>) =>
  Number(
    (resultOf(await h.call(s, 'tools/call', { name: 'pid' }))['content'] as { text: string }[])[0]!.text,
  );

describe('idle sessions', () => {
  it('are released after the idle limit, killing their stateful upstream, while active ones stay', async () => {
    const idle = newSession({ kind: 'server', server: own });
    const active = newSession({ kind: 'server', server: own });
    const idlePid = await pidOf(idle);
    const activePid = await pidOf(active);
    const keepActive = setInterval(() => void h.call(active, 'ping').catch(() => undefined), 300);
    try {
      await eventually(() => !isAlive(idlePid), 6000);
      expect(isAlive(activePid)).toBe(true);
      expect(await pidOf(active)).toBe(activePid);
    } finally {
      clearInterval(keepActive);
    }
    // The released session's next call starts afresh with a new upstream process.
    const fresh = await pidOf(idle);
    expect(fresh).not.toBe(idlePid);
  });
});
