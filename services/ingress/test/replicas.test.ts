/**
 * Two ingress replicas over one NATS with the fake router: any replica serves any session, streams
 * resume on another replica from the event log, a session pinned to a dead router replica fails over
 * and is re-pinned, and readiness follows the router. The NATS is spawned for this file.
 */
import { AnonymousPrincipal } from '../src/request-principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm, type KV } from '@nats-io/kv';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { Bus, decodeJson, encodeJson } from '@meshgate/bus';
import { Buckets, SessionRecord, Subjects, type ToUpstream } from '@meshgate/contracts';
import { start, type IngressHandle } from '../src/service';
import { newSessionId } from '../src/session-store';
import { startFakeRouter, type FakeRouter } from './fake-router';
import {
  SseReader,
  data,
  initializeRequest,
  openSession,
  openStream,
  post,
  testConfig,
  toolCall,
  type Session,
} from './harness';

let nats: SpawnedNats;
let router: FakeRouter;
let a: IngressHandle;
let b: IngressHandle;
let bus: Bus;
let kv: KV;

/** The same session, addressed through replica `to`. */
const via = (s: Session, to: IngressHandle): Session => ({ ...s, base: to.url });

beforeAll(async () => {
  nats = await spawnNats();
  router = await startFakeRouter(nats.url, 'router-live');
  [a, b] = await Promise.all([start(testConfig(nats.url)), start(testConfig(nats.url))]);
  bus = await Bus.connect({ url: nats.url, name: 'replicas-test' });
  kv = await new Kvm(bus.nc).open(Buckets.sessions);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await router?.stop();
  await bus?.close();
  await nats?.stop();
});

describe('two replicas', () => {
  it('serve one session alternately', async () => {
    const s = await openSession(a.url);
    for (const [i, to] of [b, a, b].entries()) {
      const res = await post(via(s, to), toolCall(10 + i, 'echo', { i }));
      expect(await res.json()).toMatchObject({
        id: 10 + i,
        result: { content: [{ text: JSON.stringify({ i }) }] },
      });
    }
  });

  it('deliver session messages to every open GET stream, on both replicas', async () => {
    const s = await openSession(a.url);
    const onA = new SseReader(await openStream(s));
    const onB = new SseReader(await openStream(via(s, b)));
    expect((await onA.next())!.data).toBe('');
    expect((await onB.next())!.data).toBe('');
    router.toAgent(s.id, { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    for (const sse of [onA, onB])
      expect(data(await sse.next())).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await onA.cancel();
    await onB.cancel();
  });

  it('resume a dropped POST stream on the other replica: missed events, then the final response', async () => {
    const s = await openSession(a.url);
    const abort = new AbortController();
    const first = new SseReader(await post(s, toolCall(20, 'gated'), { signal: abort.signal }));
    await first.next();
    const seen = await first.next();
    expect(data(seen)).toMatchObject({ params: { progress: 1 } });
    abort.abort();

    // The resumer catches up, then follows the stream live while the call goes on.
    const resumed = await openStream(via(s, b), seen!.id);
    expect(resumed.status).toBe(200);
    router.openGate();
    const events = await new SseReader(resumed).rest();
    const streamId = seen!.id!.replace(/_1$/, '');
    expect(events.map((e) => e.id)).toEqual([`${streamId}_2`, `${streamId}_3`]);
    expect(data(events[0]!)).toMatchObject({ params: { progress: 2 } });
    expect(data(events[1]!)).toMatchObject({ id: 20, result: { content: [{ text: 'gated done' }] } });

    // Nothing is left after the final response: 204 tells the client to stop reconnecting.
    expect((await openStream(via(s, a), events[1]!.id)).status).toBe(204);
  });

  it('resume a GET stream on the other replica, then carry on live under the same stream id', async () => {
    const s = await openSession(a.url);
    const abort = new AbortController();
    const first = new SseReader(await openStream(s, undefined, abort.signal));
    const priming = await first.next();
    router.toAgent(s.id, { jsonrpc: '2.0', method: 'notifications/message', params: { n: 1 } });
    router.toAgent(s.id, { jsonrpc: '2.0', method: 'notifications/message', params: { n: 2 } });
    const one = await first.next();
    await first.next();
    abort.abort();

    const resumed = new SseReader(await openStream(via(s, b), one!.id));
    const replayed = await resumed.next();
    expect([replayed!.id, data(replayed)['params']]).toEqual([priming!.id!.replace(/_0$/, '_2'), { n: 2 }]);
    router.toAgent(s.id, { jsonrpc: '2.0', method: 'notifications/message', params: { n: 3 } });
    const live = await resumed.next();
    expect([live!.id, data(live)['params']]).toEqual([priming!.id!.replace(/_0$/, '_3'), { n: 3 }]);
    await resumed.cancel();
  });

  it('refuse an unknown or malformed Last-Event-ID with 400', async () => {
    const s = await openSession(b.url);
    expect((await openStream(s, 'garbage')).status).toBe(400);
    expect((await openStream(s, `${'x'.repeat(22)}_4`)).status).toBe(400);
  });

  it('fail over a session pinned to a dead router replica and re-pin it', async () => {
    const id = newSessionId();
    const record: SessionRecord = {
      v: 1,
      session: {
        id,
        protocolVersion: '2025-11-25',
        clientCapabilities: {},
        target: { kind: 'federated' },
        principal: AnonymousPrincipal,
      },
      router: 'router-dead',
      createdAt: Date.now(),
    };
    await kv.put(id, encodeJson(record));
    const s: Session = { base: b.url, path: '/mcp', id, version: '2025-11-25' };
    const res = await post(s, toolCall(30, 'echo', { after: 'failover' }));
    expect(await res.json()).toMatchObject({
      id: 30,
      result: { structuredContent: { router: 'router-live' } },
    });
    const stored = decodeJson(SessionRecord, (await kv.get(id))!.value, 'record');
    expect(stored.router).toBe('router-live');
    expect((await post(via(s, a), toolCall(31, 'echo'))).status).toBe(200);
  });

  it('never brings back a session deleted while its failed-over call was held, when re-pinning it', async () => {
    const id = newSessionId();
    const record: SessionRecord = {
      v: 1,
      session: {
        id,
        protocolVersion: '2025-11-25',
        clientCapabilities: {},
        target: { kind: 'federated' },
        principal: AnonymousPrincipal,
      },
      router: 'router-dead',
      createdAt: Date.now(),
    };
    await kv.put(id, encodeJson(record));
    const s: Session = { base: b.url, path: '/mcp', id, version: '2025-11-25' };
    const held = post(s, toolCall(40, 'hang'));
    await router.until(() => router.calls.some((c) => c.session.id === id && c.message.id === 40));
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    expect((await fetch(`${a.url}/mcp`, { method: 'DELETE', headers })).status).toBe(200);
    expect(await (await held).json()).toMatchObject({ id: 40, error: { code: -32001 } });

    // The router answers the call late; the reply names another replica than the record did.
    const cancel: ToUpstream = {
      v: 1,
      sessionId: id,
      message: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 40 } },
    };
    bus.publish(Subjects.sessionToUpstream(id), cancel);
    await router.until(() => router.toUpstream.some((u) => u.payload.sessionId === id));
    await new Promise((r) => setTimeout(r, 300));
    expect((await kv.get(id))?.operation).not.toBe('PUT');
    expect((await post(via(s, a), toolCall(41, 'echo'))).status).toBe(404);
  });

  it('report not ready once no router replica answers', async () => {
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    await router.stop();
    await new Promise((r) => setTimeout(r, 1100));
    const res = await fetch(`${a.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const init = await post({ base: b.url, path: '/mcp' }, initializeRequest());
    expect(init.headers.get('mcp-session-id')).toBeNull();
    expect(await init.json()).toMatchObject({ id: 0, error: { code: -32001 } });
  });
});
