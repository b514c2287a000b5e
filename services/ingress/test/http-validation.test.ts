// Validation paths of the HTTP edge through Fastify inject(), on the shared test NATS (no router needed).
import { AnonymousPrincipal } from '../src/request-principal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm, type KV } from '@nats-io/kv';
import { Bus, encodeJson } from '@meshgate/bus';
import { Buckets, ErrorCodes, type SessionRecord } from '@meshgate/contracts';
import { start, type IngressHandle } from '../src/service';
import { newSessionId } from '../src/session-store';
import { ACCEPT, initializeRequest, request, testConfig } from './harness';

let ingress: IngressHandle;
let bus: Bus;
let kv: KV;

const json = { 'content-type': 'application/json', accept: ACCEPT };

/** A session record written straight to KV, as another replica would have. */
async function seedSession(version: string, router = 'router-nowhere'): Promise<string> {
  const id = newSessionId();
  const record: SessionRecord = {
    v: 1,
    session: {
      id,
      protocolVersion: version,
      clientCapabilities: {},
      target: { kind: 'federated' },
      principal: AnonymousPrincipal,
    },
    router,
    createdAt: Date.now(),
  };
  await kv.put(id, encodeJson(record));
  return id;
}

function inject(opts: {
  method?: 'GET' | 'POST' | 'DELETE';
  url?: string;
  headers?: Record<string, string>;
  body?: string;
}) {
  return ingress.app.inject({
    method: opts.method ?? 'POST',
    url: opts.url ?? '/mcp',
    headers: opts.headers ?? json,
    ...(opts.body !== undefined ? { payload: opts.body } : {}),
  });
}

beforeAll(async () => {
  const url = process.env['NATS_URL']!;
  ingress = await start(
    testConfig(url, {
      MESHGATE_MAX_BODY_BYTES: '2048',
      MESHGATE_ALLOWED_ORIGINS: 'https://app.example.com',
      MESHGATE_ALLOWED_HOSTS: 'gw.example.com',
    }),
  );
  bus = await Bus.connect({ url, name: 'ingress-validation-test' });
  kv = await new Kvm(bus.nc).open(Buckets.sessions);
});

afterAll(async () => {
  await ingress?.stop();
  await bus?.close();
});

describe('POST validation', () => {
  it('answers invalid JSON with HTTP 400 and -32700', async () => {
    const res = await inject({ body: '{"jsonrpc":' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: ErrorCodes.ParseError, message: expect.any(String) },
    });
  });
  it('answers a non-message and a batch with HTTP 400 and -32600', async () => {
    for (const body of ['{"jsonrpc":"2.0","id":3}', JSON.stringify([request(1, 'ping')])]) {
      const res = await inject({ body });
      expect(res.statusCode, body).toBe(400);
      expect(res.json().error.code).toBe(ErrorCodes.InvalidRequest);
    }
  });
  it('requires the Mcp-Session-Id header after initialize (400) and a known session (404, -32001)', async () => {
    const missing = await inject({ body: JSON.stringify(request(5, 'tools/list')) });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ id: 5, error: { code: ErrorCodes.InvalidRequest } });
    for (const sid of [newSessionId(), 'x', '../../etc']) {
      const res = await inject({
        headers: { ...json, 'mcp-session-id': sid },
        body: JSON.stringify(request(6, 'tools/list')),
      });
      expect(res.statusCode, sid).toBe(404);
      expect(res.json()).toMatchObject({ id: 6, error: { code: -32001, message: 'Session not found' } });
    }
  });
  it('refuses a foreign Origin and a rebinding Host with 403 and a JSON-RPC body', async () => {
    const body = JSON.stringify(request(1, 'ping'));
    const origin = await inject({ headers: { ...json, origin: 'https://evil.example' }, body });
    expect(origin.statusCode).toBe(403);
    expect(origin.json().error.message).toMatch(/Origin/);
    const host = await inject({ headers: { ...json, host: 'evil.example' }, body });
    expect(host.statusCode).toBe(403);
    expect(host.json().error.message).toMatch(/Host/);
    // Listed origin and host pass the guard and reach session resolution (400: no session header).
    const listed = await inject({
      headers: { ...json, origin: 'https://app.example.com', host: 'gw.example.com' },
      body,
    });
    expect(listed.statusCode).toBe(400);
  });
  it('answers an oversize body with 413, a wrong content type with 415, a narrow Accept with 406', async () => {
    const big = await inject({ body: JSON.stringify(request(1, 'ping', { pad: 'x'.repeat(4096) })) });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe(ErrorCodes.InvalidRequest);
    const text = await inject({ headers: { 'content-type': 'text/plain', accept: ACCEPT }, body: 'hi' });
    expect(text.statusCode).toBe(415);
    const none = await inject({ headers: { accept: ACCEPT }, body: '{}' });
    expect(none.statusCode).toBe(415);
    const accept = await inject({
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
    });
    expect(accept.statusCode).toBe(406);
    expect(accept.headers['content-type']).toMatch(/application\/json/);
  });
  it('checks MCP-Protocol-Version: unsupported 400, mismatch 400, absent only for 2025-03-26 sessions', async () => {
    const init = await inject({
      headers: { ...json, 'mcp-protocol-version': '1999-01-01' },
      body: JSON.stringify(initializeRequest()),
    });
    expect(init.statusCode).toBe(400);
    const modern = await seedSession('2025-11-25');
    const ping = JSON.stringify(request(9, 'ping'));
    const mismatch = await inject({
      headers: { ...json, 'mcp-session-id': modern, 'mcp-protocol-version': '2025-06-18' },
      body: ping,
    });
    expect(mismatch.statusCode).toBe(400);
    const absent = await inject({ headers: { ...json, 'mcp-session-id': modern }, body: ping });
    expect(absent.statusCode).toBe(400);
    const matching = await inject({
      headers: { ...json, 'mcp-session-id': modern, 'mcp-protocol-version': '2025-11-25' },
      body: ping,
    });
    expect([matching.statusCode, matching.json()]).toEqual([200, { jsonrpc: '2.0', id: 9, result: {} }]);
    const legacy = await seedSession('2025-03-26');
    const old = await inject({ headers: { ...json, 'mcp-session-id': legacy }, body: ping });
    expect(old.statusCode).toBe(200);
  });
  it('accepts the version it negotiated: a 2024-11-05 session sending its header, as SDK clients do', async () => {
    const sid = await seedSession('2024-11-05');
    const ping = await inject({
      headers: { ...json, 'mcp-session-id': sid, 'mcp-protocol-version': '2024-11-05' },
      body: JSON.stringify(request(10, 'ping')),
    });
    expect([ping.statusCode, ping.json()]).toEqual([200, { jsonrpc: '2.0', id: 10, result: {} }]);
    const other = await inject({
      headers: { ...json, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' },
      body: JSON.stringify(request(11, 'ping')),
    });
    expect(other.statusCode).toBe(400);
  });
  it('refuses a response to a request the gateway never sent, and a session opened on another endpoint', async () => {
    const sid = await seedSession('2025-03-26');
    const headers = { ...json, 'mcp-session-id': sid };
    const res = await inject({ headers, body: '{"jsonrpc":"2.0","id":"client-1","result":{}}' });
    expect(res.statusCode).toBe(400);
    const other = await inject({
      url: '/servers/everything/mcp',
      headers,
      body: JSON.stringify(request(1, 'ping')),
    });
    expect(other.statusCode).toBe(404);
  });
  it('does not crash on hostile nesting in a relayed notification', async () => {
    const sid = await seedSession('2025-03-26');
    const nested = `{"jsonrpc":"2.0","method":"notifications/progress","params":{"a":${'['.repeat(500)}${']'.repeat(500)}}}`;
    const res = await inject({ headers: { ...json, 'mcp-session-id': sid }, body: nested });
    expect(res.statusCode).toBe(202);
    expect((await inject({ method: 'GET', url: '/healthz', headers: {} })).statusCode).toBe(200);
  });
});

describe('other methods and routes', () => {
  it('answers 405 to a GET that does not accept SSE, 404 to DELETE of an unknown session', async () => {
    const get = await inject({ method: 'GET', headers: { accept: 'application/json' } });
    expect(get.statusCode).toBe(405);
    expect(get.headers['allow']).toContain('POST');
    const del = await inject({ method: 'DELETE', headers: { 'mcp-session-id': newSessionId() } });
    expect(del.statusCode).toBe(404);
  });
  it('answers bad server names and unknown routes with problem details', async () => {
    const bad = await inject({ url: '/servers/9lives/mcp', body: JSON.stringify(initializeRequest()) });
    expect(bad.statusCode).toBe(404);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.json()).toMatchObject({ status: 404, title: 'Not Found' });
    const long = await inject({ url: `/servers/${'a'.repeat(300)}/mcp`, body: '{}' });
    expect(long.statusCode).toBe(414);
    expect(long.headers['content-type']).toMatch(/application\/problem\+json/);
    const none = await inject({ method: 'GET', url: '/nope', headers: {} });
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await inject({ method: 'GET', url: '/healthz', headers: {} })).json()).toEqual({ status: 'ok' });
  });
});
