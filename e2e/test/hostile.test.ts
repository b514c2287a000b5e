/**
 * Hostile input against a whole in-process gateway (one ingress, one router, the HTTP feature fixture):
 * malformed and refused requests over raw HTTP, oversize bodies and headers, 1,000 half-open connections
 * held while a normal client keeps calling, and 1,000 GET streams of one session against the per-session
 * stream limit. Afterwards every service must still be up: health, readiness, and a fresh session's call.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCodes } from '@meshgate/contracts';
import { startFeatureServerHttp, waitUntil, type FeatureHttpServer } from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

const VERSION = '2025-11-25';
const ACCEPT = 'application/json, text/event-stream';
const JSON_HEADERS = { 'content-type': 'application/json', accept: ACCEPT };
const STREAMS_PER_SESSION = 32;
const BARRAGE = 1000;
const MiB = 1024 * 1024;

let gateway: Gateway;
let fixture: FeatureHttpServer;
let port: number;

beforeAll(async () => {
  fixture = await startFeatureServerHttp();
  gateway = await startGateway({
    servers: { fx: { url: fixture.url, type: 'http' } },
    env: { MESHGATE_MAX_STREAMS_PER_SESSION: String(STREAMS_PER_SESSION) },
  });
  port = Number(new URL(gateway.ingress[0]!.url).port);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fixture?.close();
});

/** A complete HTTP answer. */
interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection (Node adds only Host and Connection), answered within 10 s. */
function send(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'POST', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${path}: no answer in time`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The JSON-RPC messages of a reply: its JSON body, or the `data:` lines of an SSE body. */
function messagesOf(reply: RawReply): Record<string, unknown>[] {
  if (!String(reply.headers['content-type']).startsWith('text/event-stream'))
    return [JSON.parse(reply.body) as Record<string, unknown>];
  return reply.body
    .split('\n')
    .filter((line) => line.startsWith('data:') && line.length > 'data:'.length + 1)
    .map((line) => JSON.parse(line.slice('data:'.length)) as Record<string, unknown>);
}

/** The error code of a single JSON-RPC error reply. */
function rpcCode(reply: RawReply): unknown {
  return (messagesOf(reply)[0]?.['error'] as { code?: unknown } | undefined)?.code;
}

/** A session opened with raw HTTP on `path`, and a way to send it requests. */
async function openSession(path: string) {
  const init = await send(path, {
    headers: JSON_HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'hostile', version: '1' } },
    }),
  });
  expect(init.status).toBe(200);
  const sid = String(init.headers['mcp-session-id']);
  const headers = { ...JSON_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': VERSION };
  const ack = await send(path, {
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(ack.status).toBe(202);
  let nextId = 2;
  return {
    sid,
    /** Sends one request and returns the HTTP reply and the response with its id. */
    async call(method: string, params?: unknown) {
      const id = nextId++;
      const reply = await send(path, {
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      });
      return { reply, response: messagesOf(reply).find((m) => m['id'] === id) };
    },
  };
}

/** The value of an unlabelled gauge on ingress `/metrics`. */
async function gauge(name: string): Promise<number> {
  const metrics = await send('/metrics', { method: 'GET' });
  const line = metrics.body.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

/** A refused POST: what it is, its body, headers beyond the JSON ones, HTTP status, JSON-RPC code. */
type Refusal = [name: string, body: string, headers: Record<string, string>, status: number, code: number];

describe('malformed and refused requests', () => {
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
  const list = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}';
  const unknownSession = { 'mcp-session-id': randomBytes(32).toString('base64url') };
  const { ParseError, InvalidRequest } = ErrorCodes;
  const cases: Refusal[] = [
    ['invalid JSON', '{"jsonrpc":"2.0",', {}, 400, ParseError],
    ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":1,"method":"ping"}', {}, 400, InvalidRequest],
    ['a missing method', '{"jsonrpc":"2.0","id":1}', {}, 400, InvalidRequest],
    [
      'params as an array',
      '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1]}',
      {},
      400,
      InvalidRequest,
    ],
    ['a batch', `[${init}]`, {}, 400, InvalidRequest],
    ['an unknown session', list, { ...unknownSession, 'mcp-protocol-version': VERSION }, 404, -32001],
    ['no session header after initialize', list, {}, 400, InvalidRequest],
    ['a foreign Origin', init, { origin: 'https://evil.example' }, 403, InvalidRequest],
    ['a rebinding Host', init, { host: 'evil.example:80' }, 403, InvalidRequest],
    ['a wrong Content-Type', init, { 'content-type': 'text/plain' }, 415, InvalidRequest],
    ['an Accept without text/event-stream', init, { accept: 'application/json' }, 406, InvalidRequest],
  ];
  for (const [name, body, headers, status, code] of cases) {
    it(`answers ${name} with HTTP ${status} and ${code}`, async () => {
      for (const path of ['/mcp', '/servers/fx/mcp']) {
        const reply = await send(path, { headers: { ...JSON_HEADERS, ...headers }, body });
        expect({ path, status: reply.status, code: rpcCode(reply) }).toEqual({ path, status, code });
      }
    });
  }
});

/** What a raw socket got back, and when the server closed it (null: still open at the deadline). */
interface SocketExchange {
  status: number;
  text: string;
  closedAfterMs: number | null;
}

/** Writes `parts` on a fresh socket and collects everything until the server closes it or `timeoutMs`. */
function socketExchange(parts: (string | Buffer)[], timeoutMs: number): Promise<SocketExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const done = (closedAfterMs: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, text, closedAfterMs });
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // Writes fail with EPIPE/ECONNRESET once the server stops reading; what it answered is what counts.
    socket.on('error', () => undefined);
    socket.once('close', () => done(Date.now() - started));
    for (const part of parts) socket.write(part);
  });
}

/** The JSON body after the head of a raw HTTP answer (Content-Length framing). */
function bodyOf(exchange: SocketExchange): Record<string, unknown> {
  return JSON.parse(exchange.text.slice(exchange.text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
}

describe('oversize input', () => {
  const head = (framing: string) =>
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Accept: ${ACCEPT}\r\n${framing}\r\n`;
  const tenMiB = Buffer.alloc(10 * MiB, 0x61);

  it('answers a 10 MB body (Content-Length) with 413 and closes the connection', async () => {
    const out = await socketExchange([head(`Content-Length: ${tenMiB.length}\r\n`), tenMiB], 10_000);
    expect(out.status).toBe(413);
    expect(bodyOf(out)).toMatchObject({ error: { code: ErrorCodes.InvalidRequest } });
    expect(out.closedAfterMs).not.toBeNull();
  });

  it('answers a 10 MB chunked body with 413 and closes the connection', async () => {
    const chunked: (string | Buffer)[] = [head('Transfer-Encoding: chunked\r\n')];
    for (let i = 0; i < 10; i++) chunked.push(`${MiB.toString(16)}\r\n`, tenMiB.subarray(0, MiB), '\r\n');
    chunked.push('0\r\n\r\n');
    const out = await socketExchange(chunked, 10_000);
    expect(out.status).toBe(413);
    expect(out.closedAfterMs).not.toBeNull();
  });

  it('answers a 64 KB header with 431 and closes the connection', async () => {
    const big = `X-Filler: ${'a'.repeat(64 * 1024)}\r\n`;
    const out = await socketExchange([head(`${big}Content-Length: 2\r\n`), '{}'], 10_000);
    expect(out.status).toBe(431);
    expect(out.closedAfterMs).not.toBeNull();
  });
});

describe('errors inside a valid session', () => {
  for (const [path, tool] of [
    ['/servers/fx/mcp', 'no-such-tool'],
    ['/mcp', 'fx__no-such-tool'],
  ] as const) {
    it(`${path}: an unknown method is -32601, an unknown tool -32602, and the session goes on`, async () => {
      const s = await openSession(path);
      const method = await s.call('tools/frobnicate', {});
      expect(method.reply.status).toBe(200);
      expect(method.response).toMatchObject({ error: { code: ErrorCodes.MethodNotFound } });
      const unknown = await s.call('tools/call', { name: tool, arguments: {} });
      expect(unknown.reply.status).toBe(200);
      expect(unknown.response).toMatchObject({ error: { code: ErrorCodes.InvalidParams } });
      const echo = await s.call('tools/call', {
        name: tool.replace('no-such-tool', 'echo'),
        arguments: { text: 'ok' },
      });
      expect(echo.response).toMatchObject({ result: { content: [{ type: 'text', text: 'ok' }] } });
    });
  }
});

/** An SDK client with a session on `path`. */
async function connectClient(path: string): Promise<Client> {
  const client = new Client({ name: 'hostile-normal-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.ingress[0]!.url}${path}`)));
  return client;
}

/** Open TCP connections of the ingress HTTP server. */
function serverConnections(): Promise<number> {
  return new Promise((resolve, reject) =>
    gateway.ingress[0]!.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}

/** Opens one socket into `held` (so a failure still closes it), and writes `partial` once connected. */
function holdPartial(partial: string, held: Socket[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(partial);
      resolve();
    });
    socket.once('error', reject);
    held.push(socket);
  });
}

describe('barrages', () => {
  it('stays responsive while 1,000 half-open requests are held, and frees them when they go', async () => {
    const target = await openSession('/servers/fx/mcp');
    const withoutBodyEnd =
      `POST /servers/fx/mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      `Accept: ${ACCEPT}\r\nMcp-Session-Id: ${target.sid}\r\nMcp-Protocol-Version: ${VERSION}\r\n` +
      `Content-Length: 4096\r\n\r\n{"jsonrpc":"2.0","id":7,"method":"tools/call",`;
    const withoutHeadersEnd = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n`;
    const before = await serverConnections();
    let withClientDone = 0;
    const held: Socket[] = [];
    let droppedEarly = 0;
    try {
      const deadline = Date.now() + 20_000;
      while (held.length < BARRAGE && Date.now() < deadline) {
        const batch = Array.from({ length: 100 }, (_, i) =>
          holdPartial(i % 2 === 0 ? withoutBodyEnd : withoutHeadersEnd, held),
        );
        await Promise.all(batch);
      }
      for (const socket of held) socket.once('close', () => droppedEarly++);
      expect(held).toHaveLength(BARRAGE);
      await waitUntil(async () => (await serverConnections()) >= before + BARRAGE, 5000, 'the barrage');

      const client = await connectClient('/servers/fx/mcp');
      try {
        for (let i = 0; i < 20; i++) {
          const result = await client.callTool({ name: 'echo', arguments: { text: `during ${i}` } });
          expect(result.content).toEqual([{ type: 'text', text: `during ${i}` }]);
        }
        expect((await send('/healthz', { method: 'GET' })).status).toBe(200);
        // Only the normal client's GET stream is open: a half-open request never becomes a stream or a call.
        expect(await gauge('meshgate_ingress_sse_streams_open')).toBeLessThanOrEqual(1);
      } finally {
        await client.close();
      }
      withClientDone = await serverConnections();
      expect(droppedEarly).toBe(0);
    } finally {
      for (const socket of held) socket.destroy();
    }
    // What is left is the normal client's pooled keep-alive connections, fewer once they idle out.
    await waitUntil(
      async () => (await serverConnections()) <= withClientDone - BARRAGE,
      5000,
      'the server to free the half-open connections',
    );
    // The session the half-open POSTs named was never touched by them.
    const after = await target.call('tools/call', { name: 'echo', arguments: { text: 'after' } });
    expect(after.response).toMatchObject({ result: { content: [{ type: 'text', text: 'after' }] } });
  }, 60_000);

  it('caps 1,000 concurrent GET streams of one session at the per-session limit with 429', async () => {
    const s = await openSession('/servers/fx/mcp');
    const other = await openSession('/servers/fx/mcp');
    const streams: IncomingMessage[] = [];
    const refused: RawReply[] = [];
    const failures: Error[] = [];
    const requests = Array.from({ length: BARRAGE }, () => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/servers/fx/mcp',
          method: 'GET',
          headers: { accept: 'text/event-stream', 'mcp-session-id': s.sid, 'mcp-protocol-version': VERSION },
          agent: false,
        },
        (res) => {
          if (res.statusCode === 200) {
            streams.push(res);
            res.resume();
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            refused.push({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on('error', (err) => failures.push(err));
      req.end();
      return req;
    });
    try {
      await waitUntil(
        () => streams.length + refused.length + failures.length >= BARRAGE,
        20_000,
        'an answer to every GET',
      );
      expect(failures).toEqual([]);
      expect(streams).toHaveLength(STREAMS_PER_SESSION);
      expect(refused).toHaveLength(BARRAGE - STREAMS_PER_SESSION);
      expect(new Set(refused.map((r) => `${r.status} ${String(rpcCode(r))}`))).toEqual(
        new Set([`429 ${ErrorCodes.Overloaded}`]),
      );
      expect(await gauge('meshgate_ingress_sse_streams_open')).toBe(STREAMS_PER_SESSION);
      // Calls count against the same limit; other sessions are not affected.
      const saturated = await s.call('tools/call', { name: 'echo', arguments: { text: 'no room' } });
      expect({ status: saturated.reply.status, code: rpcCode(saturated.reply) }).toEqual({
        status: 429,
        code: ErrorCodes.Overloaded,
      });
      const free = await other.call('tools/call', { name: 'echo', arguments: { text: 'room' } });
      expect(free.response).toMatchObject({ result: { content: [{ type: 'text', text: 'room' }] } });
    } finally {
      for (const req of requests) req.destroy();
    }
    await waitUntil(
      async () => (await gauge('meshgate_ingress_sse_streams_open')) === 0,
      5000,
      'streams to close',
    );
    const again = await s.call('tools/call', { name: 'echo', arguments: { text: 'room again' } });
    expect(again.response).toMatchObject({ result: { content: [{ type: 'text', text: 'room again' }] } });
  }, 60_000);
});

describe('after the barrage', () => {
  it('every service is up: ingress and registry ready, a fresh session initializes and calls a tool', async () => {
    expect((await send('/healthz', { method: 'GET' })).status).toBe(200);
    expect((await send('/readyz', { method: 'GET' })).status).toBe(200);
    expect((await fetch(`${gateway.registryUrl}/readyz`)).status).toBe(200);
    const client = await connectClient('/mcp');
    try {
      expect(client.getServerVersion()?.name).toBe('meshgate');
      const result = await client.callTool({ name: 'fx__echo', arguments: { text: 'still here' } });
      expect(result.content).toEqual([{ type: 'text', text: 'still here' }]);
    } finally {
      await client.close();
    }
  });
});
