/**
 * Per-session upstream state: a stateful server gets one connection (one process) per session, its
 * server-to-client traffic goes to that session, and the session's end kills the process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects } from '@meshgate/contracts';
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
const own = uniqueName('own');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  h = await startHarness();
  await h.put(stdioFixture(own, 'a', { stateful: true }));
});
afterAll(async () => {
  await h?.close();
});

const pidOf = async (s: ReturnType<typeof newSession>) =>
  Number(
    (resultOf(await h.call(s, 'tools/call', { name: 'pid' }))['content'] as { text: string }[])[0]!.text,
  );

describe('stateful servers', () => {
  it('give every session its own upstream process, killed when the session ends', async () => {
    const a = newSession({ kind: 'server', server: own });
    const b = newSession({ kind: 'server', server: own });
    const [pa, pb] = [await pidOf(a), await pidOf(b)];
    expect(pa).not.toBe(pb);
    expect(await pidOf(a)).toBe(pa);
    h.bus.publish(Subjects.sessionEnded(a.id), { v: 1, sessionId: a.id, reason: 'deleted' });
    await eventually(() => !isAlive(pa));
    expect(isAlive(pb)).toBe(true);
  });

  it("forward roots/list_changed and route the upstream's roots/list to the owning session", async () => {
    const s = newSession({ kind: 'server', server: own }, { roots: { listChanged: true } });
    resultOf(await h.call(s, 'ping'));
    const toAgent = h.collect(Subjects.sessionToAgent(s.id));
    h.bus.publish(Subjects.sessionToUpstream(s.id), {
      v: 1,
      sessionId: s.id,
      message: { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
    });
    const request = await eventually(() => toAgent.messages.find((m) => m['method'] === 'roots/list'));
    h.bus.publish(Subjects.routerToUpstream(h.router.instanceId), {
      v: 1,
      sessionId: s.id,
      message: { jsonrpc: '2.0', id: request['id'], result: { roots: [{ uri: 'file:///work' }] } },
    });
    const log = await eventually(() => toAgent.messages.find((m) => m['method'] === 'notifications/message'));
    expect(log['params']).toEqual({ level: 'info', data: 'roots: file:///work' });
  });

  it('ignore notifications of sessions this replica does not know', async () => {
    const stranger = newSession({ kind: 'server', server: own });
    h.bus.publish(Subjects.sessionToUpstream(stranger.id), {
      v: 1,
      sessionId: stranger.id,
      message: { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
    });
    h.bus.publish(Subjects.sessionToUpstream(stranger.id), {
      v: 1,
      sessionId: stranger.id,
      message: 'garbage',
    });
    expect(resultOf(await h.call(stranger, 'ping'))).toEqual({});
  });
});
