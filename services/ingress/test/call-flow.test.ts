/**
 * One ingress over real HTTP and a real NATS with the fake router: sessions, JSON and SSE answers,
 * server-to-client round trips, notifications, cancellation on disconnect, DELETE, limits, and a real
 * MCP SDK client. The NATS is spawned for this file so no other project's router answers these calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { Bus } from '@meshgate/bus';
import { Subjects } from '@meshgate/contracts';
import { start, type IngressHandle } from '../src/service';
import { startFakeRouter, type FakeRouter } from './fake-router';
import { SseReader, data, openSession, openStream, post, request, testConfig, toolCall } from './harness';

let nats: SpawnedNats;
let router: FakeRouter;
let ingress: IngressHandle;

beforeAll(async () => {
  nats = await spawnNats();
  router = await startFakeRouter(nats.url, 'router-one');
  ingress = await start(testConfig(nats.url));
});

afterAll(async () => {
  await ingress?.stop();
  await router?.stop();
  await nats?.stop();
});

describe('sessions and calls', () => {
  it('initialize returns a session id, and a tools/call is answered as JSON', async () => {
    const s = await openSession(ingress.url);
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const res = await post(s, toolCall(1, 'echo', { hello: 'world' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: '{"hello":"world"}' }] },
    });
    const call = router.calls.find((c) => c.message.id === 1 && c.session.id === s.id)!;
    expect(call.session).toMatchObject({
      protocolVersion: '2025-11-25',
      target: { kind: 'federated' },
      clientCapabilities: { sampling: {} },
    });
    expect(call.stream).toMatch(new RegExp(`^mg\\.v1\\.ingress\\.${ingress.instanceId}\\.stream\\.`));
  });

  it('a per-server endpoint carries its target, and an unknown server gives HTTP 404', async () => {
    const s = await openSession(ingress.url, '/servers/everything/mcp');
    const init = router.calls.find((c) => c.session.id === s.id)!;
    expect(init.session.target).toEqual({ kind: 'server', server: 'everything' });
    const missing = await post(
      { base: ingress.url, path: '/servers/missing/mcp' },
      request(0, 'initialize', { protocolVersion: '2025-11-25' }),
    );
    expect(missing.status).toBe(404);
    expect(missing.headers.get('mcp-session-id')).toBeNull();
    expect(await missing.json()).toMatchObject({
      id: 0,
      error: { message: expect.stringContaining('unknown server') },
    });
  });

  it('switches to SSE when a related message comes first: priming event, ids, final response, end', async () => {
    const s = await openSession(ingress.url);
    const res = await post(s, toolCall(2, 'progress'));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const sse = new SseReader(res);
    const events = await sse.rest();
    const streamId = events[0]!.id!.replace(/_0$/, '');
    expect(events.map((e) => e.id)).toEqual([0, 1, 2, 3].map((n) => `${streamId}_${n}`));
    expect(events[0]!.data).toBe('');
    expect(sse.retry).toBe(1000);
    expect(data(events[1]!)).toMatchObject({
      method: 'notifications/progress',
      params: { progressToken: 'tok-2', progress: 1 },
    });
    expect(data(events[3]!)).toMatchObject({ id: 2, result: { content: [{ text: 'done' }] } });
  });

  it('sends no priming event to a 2025-06-18 session', async () => {
    const s = await openSession(ingress.url, '/mcp', '2025-06-18');
    const events = await new SseReader(await post(s, toolCall(3, 'progress'))).rest();
    expect(events).toHaveLength(3);
    expect(events[0]!.id).toMatch(/_1$/);
  });

  it('relays a server-to-client request and the agent answer back to the issuing router', async () => {
    const s = await openSession(ingress.url);
    const sse = new SseReader(await post(s, toolCall(4, 'sample')));
    await sse.next();
    const ask = data(await sse.next());
    expect(ask).toMatchObject({ method: 'sampling/createMessage', id: 'mg:router-one:1' });
    const answer = await post(s, {
      jsonrpc: '2.0',
      id: ask['id'],
      result: { role: 'assistant', content: { type: 'text', text: 'hi' } },
    });
    expect(answer.status).toBe(202);
    const final = data(await sse.next());
    expect(final).toMatchObject({ id: 4, result: { content: [{ text: expect.stringContaining('"hi"') }] } });
    expect(
      router.toUpstream.find((u) => u.subject === Subjects.routerToUpstream('router-one'))!.payload.sessionId,
    ).toBe(s.id);
  });

  it('relays agent notifications to the session subject and answers ping locally', async () => {
    const s = await openSession(ingress.url);
    const note = await post(s, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
    expect(note.status).toBe(202);
    await router.until(() => router.toUpstream.some((u) => u.subject === Subjects.sessionToUpstream(s.id)));
    const before = router.calls.length;
    expect(await (await post(s, request(5, 'ping'))).json()).toEqual({ jsonrpc: '2.0', id: 5, result: {} });
    expect(router.calls.length).toBe(before);
  });

  it('cancels upstream when the agent drops a call that has not streamed', async () => {
    const s = await openSession(ingress.url);
    const abort = new AbortController();
    const pending = post(s, toolCall(6, 'hang'), { signal: abort.signal }).catch((e: unknown) => e);
    await router.until(() => router.calls.some((c) => c.session.id === s.id && c.message.id === 6));
    abort.abort();
    await pending;
    await router.until(() =>
      router.toUpstream.some(
        (u) =>
          u.payload.sessionId === s.id &&
          'method' in u.payload.message &&
          u.payload.message.method === 'notifications/cancelled',
      ),
    );
    const cancel = router.toUpstream.find((u) => u.payload.sessionId === s.id)!;
    expect(cancel.payload.message).toMatchObject({ params: { requestId: 6 } });
  });

  it('ends a call the agent cancels with notifications/cancelled, and maps router failures', async () => {
    const s = await openSession(ingress.url);
    const pending = post(s, toolCall(7, 'hang'));
    await router.until(() => router.calls.some((c) => c.session.id === s.id && c.message.id === 7));
    await post(s, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } });
    expect(await (await pending).json()).toMatchObject({ id: 7, error: { code: -32800 } });
    const failed = await (await post(s, toolCall(8, 'fail'))).json();
    expect(failed).toMatchObject({
      id: 8,
      error: { code: -32603, message: 'Internal error in the gateway' },
    });
  });

  it('DELETE ends the session everywhere', async () => {
    const s = await openSession(ingress.url);
    const bus = await Bus.connect({ url: nats.url, name: 'delete-test' });
    const ended = bus.nc.subscribe(Subjects.sessionEnded(s.id), { max: 1 });
    await bus.nc.flush();
    const stream = await openStream(s);
    const sse = new SseReader(stream);
    await sse.next();
    const del = await fetch(`${s.base}${s.path}`, {
      method: 'DELETE',
      headers: { 'mcp-session-id': s.id, 'mcp-protocol-version': s.version },
    });
    expect(del.status).toBe(200);
    for await (const m of ended) expect(m.json()).toEqual({ v: 1, sessionId: s.id, reason: 'deleted' });
    expect(await sse.rest()).toEqual([]);
    expect((await post(s, request(9, 'ping'))).status).toBe(404);
    await bus.close();
  });
});

describe('limits, health and a real MCP client', () => {
  it('bounds the open streams of one session, keeps idle streams alive, and ends them on stop', async () => {
    const limited = await start(
      testConfig(nats.url, { MESHGATE_MAX_STREAMS_PER_SESSION: '2', MESHGATE_SSE_KEEPALIVE_MS: '100' }),
    );
    let stopped = false;
    try {
      const s = await openSession(limited.url);
      const raw = await openStream(s);
      const other = await openStream(s);
      expect((await openStream(s)).status).toBe(429);
      await other.body!.cancel();
      const reader = raw.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!text.includes(': keep-alive')) text += (await reader.read()).value ?? '';
      const began = Date.now();
      await limited.stop();
      stopped = true;
      expect(Date.now() - began).toBeLessThan(2000);
      let ended = false;
      while (!ended) ended = (await reader.read()).done;
    } finally {
      if (!stopped) await limited.stop();
    }
  });

  it('reports readiness and metrics', async () => {
    expect((await fetch(`${ingress.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${ingress.url}/metrics`)).text();
    expect(metrics).toMatch(/meshgate_ingress_jsonrpc_calls_total\{method="tools\/call",outcome="ok"\} \d+/);
    expect(metrics).toMatch(
      /meshgate_ingress_http_requests_total\{route="\/mcp",method="POST",status="200"\}/,
    );
    expect(metrics).toMatch(/meshgate_ingress_sessions_cached \d+/);
    expect(metrics).toMatch(/meshgate_ingress_sse_streams_open 0/);
  });

  it('serves the MCP SDK client end to end, progress included', async () => {
    const client = new Client({ name: 'sdk-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${ingress.url}/mcp`)));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(['echo']);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'progress', arguments: {} }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(progress).toEqual([1, 2]);
    await client.close();
  });
});
