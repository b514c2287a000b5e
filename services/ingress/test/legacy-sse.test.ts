/**
 * The legacy HTTP+SSE transport (spec 2024-11-05) over two ingress replicas and the fake router, on a NATS
 * spawned for this file: the `endpoint` event, POSTs landing on the other replica answered 202 with every
 * answer and related message on the stream, a sampling round trip, unrelated notifications, the session
 * bound to its endpoint and principal, refusals answered on the POST, the session ending with its stream,
 * a stream never initialized closed in time, and a real SDK v1 `SSEClientTransport` client pinned to
 * 2024-11-05 whose POSTs all land on the second replica.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventSourceMessage } from 'eventsource-parser/stream';
import { Kvm, type KV } from '@nats-io/kv';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { ApiKeyStore, type IssuedKey } from '@meshgate/auth';
import { Bus, decodeJson } from '@meshgate/bus';
import {
  Buckets,
  ErrorCodes,
  LegacyAttachReply,
  SessionRecord,
  Subjects,
  type LegacyAttach,
} from '@meshgate/contracts';
import { pinProtocolVersion, spawnNats, type SpawnedNats } from '@meshgate/testing';
import { start, type IngressHandle } from '../src/service';
import { startFakeRouter, type FakeRouter } from './fake-router';
import { SseReader, data, initializeRequest, request, testConfig, toolCall } from './harness';

const LEGACY = '2024-11-05';

let nats: SpawnedNats;
let router: FakeRouter;
let a: IngressHandle;
let b: IngressHandle;
let bus: Bus;
let kv: KV;

beforeAll(async () => {
  nats = await spawnNats();
  router = await startFakeRouter(nats.url, 'router-legacy');
  [a, b] = await Promise.all([start(testConfig(nats.url)), start(testConfig(nats.url))]);
  bus = await Bus.connect({ url: nats.url, name: 'legacy-sse-test' });
  kv = await new Kvm(bus.nc).open(Buckets.sessions);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await router?.stop();
  await bus?.close();
  await nats?.stop();
});

/** An open legacy stream: its reader, the endpoint it named and the session id in it. */
interface LegacyStream {
  sse: SseReader;
  endpoint: string;
  sid: string;
  abort: AbortController;
}

async function openLegacy(
  base: string,
  path = '/sse',
  headers: Record<string, string> = {},
): Promise<LegacyStream> {
  const abort = new AbortController();
  const res = await fetch(`${base}${path}`, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const sse = new SseReader(res);
  const first = await sse.next();
  expect(first?.event).toBe('endpoint');
  const endpoint = first!.data;
  const sid = new URL(endpoint, base).searchParams.get('sessionId')!;
  return { sse, endpoint, sid, abort };
}

function postTo(base: string, endpoint: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(new URL(endpoint, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The next `message` event of a stream, as JSON. */
async function nextMessage(sse: SseReader): Promise<Record<string, unknown>> {
  const e: EventSourceMessage | null = await sse.next();
  expect(e?.event).toBe('message');
  expect(e?.id).toBeUndefined();
  return data(e);
}

/** Opens a stream on `base` and initializes its session at 2024-11-05 through `postBase`. */
async function legacySession(base: string, postBase = base, path = '/sse'): Promise<LegacyStream> {
  const s = await openLegacy(base, path);
  const res = await postTo(postBase, s.endpoint, initializeRequest(LEGACY));
  expect(res.status).toBe(202);
  expect(await res.text()).toBe('Accepted');
  expect(await nextMessage(s.sse)).toMatchObject({ id: 0, result: { protocolVersion: LEGACY } });
  expect(
    (await postTo(postBase, s.endpoint, { jsonrpc: '2.0', method: 'notifications/initialized' })).status,
  ).toBe(202);
  return s;
}

describe('the legacy HTTP+SSE transport', () => {
  it('names the endpoint to POST to, and stores the session initialized through the other replica', async () => {
    const s = await legacySession(a.url, b.url);
    expect(s.endpoint).toMatch(/^\/messages\?sessionId=[A-Za-z0-9_-]{43}$/);
    const entry = await kv.get(s.sid);
    const record = decodeJson(SessionRecord, entry!.value, 'record');
    expect(record.session).toMatchObject({
      id: s.sid,
      protocolVersion: LEGACY,
      target: { kind: 'federated' },
      clientCapabilities: { sampling: {} },
    });
    expect(record.router).toBe('router-legacy');
    s.abort.abort();
  });

  it('answers POSTs landing on either replica on the stream: responses, progress, and ping', async () => {
    const s = await legacySession(a.url, b.url);
    expect((await postTo(b.url, s.endpoint, toolCall(1, 'echo', { x: 1 }))).status).toBe(202);
    expect(await nextMessage(s.sse)).toMatchObject({ id: 1, result: { content: [{ text: '{"x":1}' }] } });
    expect((await postTo(a.url, s.endpoint, toolCall(2, 'progress'))).status).toBe(202);
    const events = [await nextMessage(s.sse), await nextMessage(s.sse), await nextMessage(s.sse)];
    expect(events.map((e) => e['method'] ?? e['id'])).toEqual([
      'notifications/progress',
      'notifications/progress',
      2,
    ]);
    expect(events[0]).toMatchObject({ params: { progressToken: 'tok-2', progress: 1 } });
    expect((await postTo(b.url, s.endpoint, request(3, 'ping'))).status).toBe(202);
    expect(await nextMessage(s.sse)).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
    const call = router.calls.find((c) => c.session.id === s.sid && c.message.id === 1)!;
    expect(call.stream).toMatch(new RegExp(`^mg\\.v1\\.ingress\\.${b.instanceId}\\.stream\\.`));
    s.abort.abort();
  });

  it('relays a sampling request on the stream and the agent answer back to the router', async () => {
    const s = await legacySession(b.url, a.url);
    expect((await postTo(a.url, s.endpoint, toolCall(4, 'sample'))).status).toBe(202);
    const ask = await nextMessage(s.sse);
    expect(ask).toMatchObject({
      method: 'sampling/createMessage',
      id: expect.stringMatching(/^mg:router-legacy:/),
    });
    const answer = { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' };
    expect((await postTo(b.url, s.endpoint, { jsonrpc: '2.0', id: ask['id'], result: answer })).status).toBe(
      202,
    );
    expect(await nextMessage(s.sse)).toMatchObject({
      id: 4,
      result: { content: [{ text: expect.stringContaining('"hi"') }] },
    });
    s.abort.abort();
  });

  it('carries notifications that belong to no request', async () => {
    const s = await legacySession(a.url);
    router.toAgent(s.sid, { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(await nextMessage(s.sse)).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    s.abort.abort();
  });

  it('binds a per-server stream to its endpoint', async () => {
    const s = await legacySession(a.url, b.url, '/servers/everything/sse');
    expect(s.endpoint).toMatch(/^\/servers\/everything\/messages\?sessionId=/);
    const init = router.calls.find((c) => c.session.id === s.sid)!;
    expect(init.session.target).toEqual({ kind: 'server', server: 'everything' });
    const elsewhere = await postTo(b.url, `/messages?sessionId=${s.sid}`, toolCall(5, 'echo'));
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ id: 5, error: { code: -32001 } });
    const other = await postTo(b.url, `/servers/other/messages?sessionId=${s.sid}`, toolCall(6, 'echo'));
    expect(other.status).toBe(404);
    s.abort.abort();
  });

  it('attaches only POSTs of the principal that opened the stream', async () => {
    const s = await openLegacy(a.url);
    const ask = (id: string): LegacyAttach => ({
      v: 1,
      principal: { tenant: 'default', id },
      target: { kind: 'federated' },
      initialize: false,
    });
    const subject = Subjects.sessionLegacyAttach(s.sid);
    expect(await bus.request(subject, ask('anonymous'), LegacyAttachReply)).toEqual({ v: 1, attached: true });
    expect(await bus.request(subject, ask('mallory'), LegacyAttachReply)).toEqual({ v: 1, attached: false });
    s.abort.abort();
  });

  it('answers refusals on the POST itself', async () => {
    const s = await openLegacy(a.url);
    const cases: [string, string, number, number, number | null][] = [
      ['a batch', JSON.stringify([initializeRequest(LEGACY)]), 400, ErrorCodes.InvalidRequest, null],
      ['invalid JSON', '{"jsonrpc":', 400, ErrorCodes.ParseError, null],
      ['a request before initialize', JSON.stringify(toolCall(7, 'echo')), 400, ErrorCodes.InvalidRequest, 7],
    ];
    for (const [name, body, status, code, id] of cases) {
      const res = await postTo(b.url, s.endpoint, body);
      expect({ name, status: res.status }).toEqual({ name, status });
      expect(await res.json()).toMatchObject({ id, error: { code } });
    }
    const unknown = await postTo(b.url, '/messages?sessionId=' + 'A'.repeat(43), toolCall(8, 'echo'));
    expect([unknown.status, ((await unknown.json()) as { error: { code: number } }).error.code]).toEqual([
      404, -32001,
    ]);
    for (const endpoint of ['/messages', '/messages?sessionId=../../x'])
      expect((await postTo(b.url, endpoint, toolCall(9, 'echo'))).status).toBeGreaterThanOrEqual(400);
    const plain = await postTo(b.url, s.endpoint, JSON.stringify(toolCall(10, 'echo')), {
      'content-type': 'text/plain',
    });
    expect(plain.status).toBe(415);
    expect((await fetch(`${a.url}/sse`, { headers: { accept: 'application/json' } })).status).toBe(406);
    // Initialize twice: the second is refused.
    expect((await postTo(b.url, s.endpoint, initializeRequest(LEGACY))).status).toBe(202);
    await nextMessage(s.sse);
    const again = await postTo(b.url, s.endpoint, initializeRequest(LEGACY, 11));
    expect([again.status, ((await again.json()) as { id: number }).id]).toEqual([400, 11]);
    // A version header, which this transport does not need, must name the session's version when sent.
    const mismatched = await postTo(b.url, s.endpoint, toolCall(13, 'echo'), {
      'mcp-protocol-version': '2025-06-18',
    });
    expect(mismatched.status).toBe(400);
    expect(await mismatched.json()).toMatchObject({ id: 13, error: { code: ErrorCodes.InvalidRequest } });
    const matching = await postTo(b.url, s.endpoint, toolCall(14, 'echo'), {
      'mcp-protocol-version': LEGACY,
    });
    expect(matching.status).toBe(202);
    expect(await nextMessage(s.sse)).toMatchObject({ id: 14, result: {} });
    s.abort.abort();
  });

  it('ends the session when its stream closes: record gone, routers told, later POSTs 404', async () => {
    const s = await legacySession(a.url, b.url);
    const ended = bus.nc.subscribe(Subjects.sessionEnded(s.sid), { max: 1 });
    await bus.nc.flush();
    s.abort.abort();
    for await (const m of ended) expect(m.json()).toEqual({ v: 1, sessionId: s.sid, reason: 'deleted' });
    expect(await kv.get(s.sid).then((e) => e?.operation ?? null)).not.toBe('PUT');
    const late = await postTo(b.url, s.endpoint, toolCall(12, 'echo'));
    expect(late.status).toBe(404);
  });

  it('closes a stream that gets no initialize in time', async () => {
    const quick = await start(testConfig(nats.url, { MESHGATE_LEGACY_INIT_TIMEOUT_MS: '300' }));
    try {
      const s = await openLegacy(quick.url);
      expect(await s.sse.next(5000)).toBeNull();
      expect((await postTo(quick.url, s.endpoint, initializeRequest(LEGACY))).status).toBe(404);
    } finally {
      await quick.stop();
    }
  });
});

describe('authenticated legacy streams', () => {
  let secured: IngressHandle;
  let ada: IssuedKey;
  let bob: IssuedKey;

  beforeAll(async () => {
    const store = await ApiKeyStore.open(bus.nc, { bucket: Buckets.apiKeys });
    ada = await store.create({ tenant: 'acme', principal: 'ada', kind: 'agent', roles: ['agent'] });
    bob = await store.create({ tenant: 'acme', principal: 'bob', kind: 'agent', roles: ['agent'] });
    secured = await start(testConfig(nats.url, { MESHGATE_AUTH: 'on' }));
  });

  afterAll(async () => {
    await secured?.stop();
  });

  it('needs credentials for the stream and the POST, and binds the session to its principal', async () => {
    const bearer = (key: IssuedKey) => ({ authorization: `Bearer ${key.apiKey}` });
    expect((await fetch(`${secured.url}/sse`, { headers: { accept: 'text/event-stream' } })).status).toBe(
      401,
    );
    const s = await openLegacy(secured.url, '/sse', bearer(ada));
    expect((await postTo(secured.url, s.endpoint, initializeRequest(LEGACY))).status).toBe(401);
    const stolen = await postTo(secured.url, s.endpoint, initializeRequest(LEGACY), bearer(bob));
    expect(stolen.status).toBe(404);
    expect((await postTo(secured.url, s.endpoint, initializeRequest(LEGACY), bearer(ada))).status).toBe(202);
    expect(await nextMessage(s.sse)).toMatchObject({ id: 0, result: { protocolVersion: LEGACY } });
    const init = router.calls.find((c) => c.session.id === s.sid)!;
    expect(init.session.principal).toMatchObject({ tenant: 'acme', id: 'ada' });
    s.abort.abort();
  });
});

describe('a real SDK v1 SSEClientTransport client at 2024-11-05', () => {
  it('lists tools, calls with progress and answers sampling, every POST on the other replica', async () => {
    const posted: string[] = [];
    // The stream stays on replica a; every POST is sent to replica b instead.
    const toReplicaB: typeof fetch = (input, init) => {
      if (init?.method !== 'POST') return fetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      url.host = new URL(b.url).host;
      posted.push(url.pathname);
      return fetch(url, init);
    };
    const transport = new SSEClientTransport(new URL(`${a.url}/sse`), { fetch: toReplicaB });
    const negotiated = pinProtocolVersion(transport, LEGACY);
    const client = new Client({ name: 'legacy-sdk', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      role: 'assistant',
      content: { type: 'text', text: 'sampled' },
      model: 'test-model',
    }));
    await client.connect(transport);
    try {
      expect(negotiated()).toBe(LEGACY);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
      // The first progress comes while the call waits for the gate. (The SDK client handles a notification
      // a microtask after it reads it, so one read in the same chunk as its response comes too late.)
      const progress: number[] = [];
      const calling = client.callTool({ name: 'gated', arguments: {} }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      await router.until(() => progress.length === 1);
      expect(progress).toEqual([1]);
      router.openGate();
      expect((await calling).content).toEqual([{ type: 'text', text: 'gated done' }]);
      const sampled = await client.callTool({ name: 'sample', arguments: {} });
      expect(JSON.stringify(sampled.content)).toContain('sampled');
      expect(posted.length).toBeGreaterThanOrEqual(5);
      expect(new Set(posted)).toEqual(new Set(['/messages']));
    } finally {
      await client.close();
    }
  });
});
