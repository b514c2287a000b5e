/**
 * Agents that close their connection while ingress still looks their request up (session record, event
 * log) must cost nothing afterwards: no stream slot, no subscription held for a connection that is gone,
 * no call sent upstream for nobody. Raw sockets send a request and reset at once. The NATS is spawned for
 * this file so no other project's router answers these calls.
 */
import { AnonymousPrincipal } from '../src/request-principal';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm, type KV } from '@nats-io/kv';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { Bus, encodeJson } from '@meshgate/bus';
import { Buckets, type SessionRecord } from '@meshgate/contracts';
import { formatEventId, newStreamId } from '../src/event-id';
import { eventsSubject, type StoredEvent } from '../src/event-log';
import { start, type IngressHandle } from '../src/service';
import { newSessionId } from '../src/session-store';
import { startFakeRouter, type FakeRouter } from './fake-router';
import { SseReader, openStream, testConfig, toolCall, type Session } from './harness';

const PER_SESSION = 3;

let nats: SpawnedNats;
let router: FakeRouter;
let ingress: IngressHandle;
let bus: Bus;
let kv: KV;

beforeAll(async () => {
  nats = await spawnNats();
  router = await startFakeRouter(nats.url, 'router-abrupt');
  ingress = await start(testConfig(nats.url, { MESHGATE_MAX_STREAMS_PER_SESSION: String(PER_SESSION) }));
  bus = await Bus.connect({ url: nats.url, name: 'ingress-abrupt-clients-test' });
  kv = await new Kvm(bus.nc).open(Buckets.sessions);
});

afterAll(async () => {
  await ingress?.stop();
  await router?.stop();
  await bus?.close();
  await nats?.stop();
});

/** A session record written straight to KV, as another replica would have: this one must read KV for it. */
async function seedSession(): Promise<Session> {
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
    router: router.instance,
    createdAt: Date.now(),
  };
  await kv.put(id, encodeJson(record));
  return { base: ingress.url, path: '/mcp', id, version: '2025-11-25' };
}

/** Sends one request and resets the connection right away; resolves once it is closed. */
function sendAndReset(head: string, headers: Record<string, string>, body = ''): Promise<void> {
  const { port } = new URL(ingress.url);
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  const length = body ? `content-length: ${Buffer.byteLength(body)}\r\n` : '';
  return new Promise((resolve) => {
    const socket = tcpConnect(Number(port), '127.0.0.1', () => {
      socket.write(`${head}\r\nhost: 127.0.0.1:${port}\r\n${lines.join('')}${length}\r\n${body}`);
      socket.resetAndDestroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

describe('agents that leave during the lookup', () => {
  it('leave no stream slot behind when they drop a resumption at once', async () => {
    const s = await seedSession();
    const id = s.id;
    const abort = new AbortController();
    const first = new SseReader(await openStream(s, undefined, abort.signal));
    const priming = await first.next();
    abort.abort();

    // A POST stream still waiting for its final response, as another replica would have recorded it.
    const postStream = newStreamId();
    const marker: StoredEvent = {
      v: 1,
      kind: 'post',
      seq: 0,
      message: null,
      final: false,
      requestId: 1,
      deadline: Date.now() + 60_000,
    };
    bus.publish(eventsSubject(id, postStream), marker);
    await bus.nc.flush();

    for (const lastEventId of [priming!.id!, formatEventId(postStream, 0)]) {
      const headers = {
        accept: 'text/event-stream',
        'mcp-session-id': id,
        'mcp-protocol-version': '2025-11-25',
        'last-event-id': lastEventId,
      };
      for (let i = 0; i < PER_SESSION * 2; i++) await sendAndReset('GET /mcp HTTP/1.1', headers);
    }
    await new Promise((r) => setTimeout(r, 200));

    const streams: AbortController[] = [];
    for (let i = 0; i < PER_SESSION; i++) {
      const c = new AbortController();
      streams.push(c);
      expect((await openStream(s, undefined, c.signal)).status, `stream ${i}`).toBe(200);
    }
    for (const c of streams) c.abort();
  });

  it('cancel upstream every call of an agent that left, or never send it', async () => {
    const s = await seedSession();
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': s.id,
      'mcp-protocol-version': s.version,
    };
    const ids = [1, 2, 3, 4, 5];
    for (const id of ids)
      await sendAndReset('POST /mcp HTTP/1.1', headers, JSON.stringify(toolCall(id, 'hang')));
    await new Promise((r) => setTimeout(r, 300));
    const sent = router.calls.filter((c) => c.session.id === s.id).map((c) => c.message.id);
    const cancelled = router.toUpstream
      .filter((u) => u.payload.sessionId === s.id && 'method' in u.payload.message)
      .map((u) => (u.payload.message.params as { requestId?: unknown } | undefined)?.requestId);
    // A call that reached the router for an agent already gone would run on unseen, holding its slot.
    expect(sent.filter((id) => !cancelled.includes(id))).toEqual([]);
  });
});
