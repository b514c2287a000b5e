/**
 * JSON-RPC batches over Streamable HTTP (spec 2025-03-26) with the fake router on a NATS spawned for this
 * file: a mixed batch answered as one JSON array with matching ids, a batch whose calls stream answered as
 * SSE carrying every response, notifications only -> 202, refusals (another version's session, 1,000
 * entries, initialize inside, nothing forwarded), bounded concurrency, cancellation when the agent leaves,
 * and one audit record per entry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '@meshgate/bus';
import { AuditMessage, ErrorCodes, eventsOf, Subjects, type AuditEvent } from '@meshgate/contracts';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { start, type IngressHandle } from '../src/service';
import { startFakeRouter, type FakeRouter } from './fake-router';
import { SseReader, data, openSession, post, request, testConfig, toolCall, type Session } from './harness';

const BATCH_VERSION = '2025-03-26';

let nats: SpawnedNats;
let router: FakeRouter;
let ingress: IngressHandle;

beforeAll(async () => {
  nats = await spawnNats();
  router = await startFakeRouter(nats.url, 'router-batch');
  ingress = await start(testConfig(nats.url, { MESHGATE_BATCH_CONCURRENCY: '2' }));
});

afterAll(async () => {
  await ingress?.stop();
  await router?.stop();
  await nats?.stop();
});

/** A 2025-03-26 session: its client sends no MCP-Protocol-Version header (absent means 2025-03-26). */
async function batchSession(base = ingress.url): Promise<Session> {
  const s = await openSession(base, '/mcp', BATCH_VERSION);
  return { ...s, version: '' };
}

const callsOf = (s: Session) => router.calls.filter((c) => c.session.id === s.id);

describe('batches in a 2025-03-26 session', () => {
  it('answers a mixed batch with one JSON array whose ids match, and relays its notification', async () => {
    const s = await batchSession();
    const res = await post(s, [
      toolCall(1, 'echo', { n: 1 }),
      { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
      request('two', 'tools/list'),
      request(3, 'ping'),
    ]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('mcp-session-id')).toBe(s.id);
    const body = (await res.json()) as { id: unknown }[];
    expect(body).toHaveLength(3);
    const byId = new Map(body.map((r) => [r.id, r]));
    expect(byId.get(1)).toMatchObject({ result: { content: [{ type: 'text', text: '{"n":1}' }] } });
    expect(byId.get('two')).toMatchObject({ result: { tools: [{ name: 'echo' }] } });
    expect(byId.get(3)).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
    // Each request went to the router on its own, with its own related-message channel; ping did not.
    const calls = callsOf(s).filter((c) => c.message.method !== 'initialize');
    expect(calls.map((c) => c.message.id).sort()).toEqual([1, 'two']);
    expect(new Set(calls.map((c) => c.stream)).size).toBe(2);
    await router.until(() =>
      router.toUpstream.some(
        (u) =>
          u.subject === Subjects.sessionToUpstream(s.id) &&
          'method' in u.payload.message &&
          u.payload.message.method === 'notifications/roots/list_changed',
      ),
    );
  });

  it('turns the answer into an SSE stream carrying related messages and every response', async () => {
    const s = await batchSession();
    const res = await post(s, [
      toolCall(1, 'echo', { first: true }),
      toolCall(2, 'progress'),
      request(3, 'ping'),
    ]);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await new SseReader(res).rest()).map(data);
    const responses = events.filter((e) => 'id' in e && !('method' in e));
    expect(responses.map((r) => r['id']).sort()).toEqual([1, 2, 3]);
    const progress = events.filter((e) => e['method'] === 'notifications/progress');
    expect(progress.map((p) => (p['params'] as { progress: number }).progress)).toEqual([1, 2]);
    // The response of the call that streamed comes after its progress; the stream ends after the last one.
    const last = events.findIndex((e) => e['id'] === 2);
    expect(last).toBeGreaterThan(events.findIndex((e) => e['method'] === 'notifications/progress'));
  });

  it('answers a batch of notifications and answers only with 202, and relays each', async () => {
    const s = await batchSession();
    const res = await post(s, [
      { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
      { jsonrpc: '2.0', id: 'mg:router-batch:77', result: { roots: [] } },
    ]);
    expect(res.status).toBe(202);
    await router.until(
      () =>
        router.toUpstream.some((u) => u.payload.sessionId === s.id && 'method' in u.payload.message) &&
        router.toUpstream.some(
          (u) => u.subject === Subjects.routerToUpstream('router-batch') && 'id' in u.payload.message,
        ),
    );
  });

  it('runs at most MESHGATE_BATCH_CONCURRENCY calls of one batch at once', async () => {
    const s = await batchSession();
    const pending = post(
      s,
      [1, 2, 3, 4].map((id) => toolCall(id, 'gated')),
    );
    await router.until(() => callsOf(s).length === 1 + 2);
    // The third call waits for a slot: it is sent only once one of the first two is answered.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(callsOf(s)).toHaveLength(1 + 2);
    router.openGate();
    const events = (await new SseReader(await pending).rest()).map(data);
    expect(events.filter((e) => 'result' in e).map((e) => e['id'])).toEqual(
      expect.arrayContaining([1, 2, 3, 4]),
    );
    expect(callsOf(s)).toHaveLength(1 + 4);
  });

  it('cancels upstream the running calls of an agent that left, and never sends the others', async () => {
    const s = await batchSession();
    const abort = new AbortController();
    const pending = post(s, [toolCall(1, 'hang'), toolCall(2, 'hang'), toolCall(3, 'hang')], {
      signal: abort.signal,
    }).catch((e: unknown) => e);
    await router.until(() => callsOf(s).length === 1 + 2);
    abort.abort();
    await pending;
    const cancelled = () =>
      router.toUpstream
        .filter((u) => u.payload.sessionId === s.id && 'method' in u.payload.message)
        .map((u) => (u.payload.message as { params?: { requestId?: unknown } }).params?.requestId);
    await router.until(() => cancelled().length === 2);
    expect(cancelled().sort()).toEqual([1, 2]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(callsOf(s).map((c) => c.message.id)).not.toContain(3);
  });
});

describe('refused batches', () => {
  it('refuses a batch in a 2025-06-18 session with 400 and -32600, forwarding nothing', async () => {
    const s = await openSession(ingress.url, '/mcp', '2025-06-18');
    const before = router.calls.length;
    const res = await post(s, [toolCall(1, 'echo')]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: ErrorCodes.InvalidRequest,
        message: 'Invalid Request: batches are not supported in 2025-06-18',
      },
    });
    expect(router.calls.length).toBe(before);
  });

  it('refuses a batch of 1,000 requests with one clear error at once, forwarding nothing', async () => {
    const s = await batchSession();
    const before = router.calls.length;
    const res = await post(
      s,
      Array.from({ length: 1000 }, (_, i) => toolCall(i, 'hang')),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      id: null,
      error: { code: ErrorCodes.InvalidRequest, message: expect.stringContaining('at most 100 messages') },
    });
    expect(router.calls.length).toBe(before);
    // The session is still served.
    expect(await (await post(s, toolCall(5, 'echo'))).json()).toMatchObject({ id: 5, result: {} });
  });

  it('refuses initialize inside a batch, an empty batch and invalid entries, forwarding nothing', async () => {
    const s = await batchSession();
    const before = router.calls.length;
    const init = request(7, 'initialize', { protocolVersion: BATCH_VERSION, capabilities: {} });
    const withInit = await post(s, [toolCall(1, 'echo'), init]);
    expect(withInit.status).toBe(400);
    expect(await withInit.json()).toMatchObject({
      id: 7,
      error: { code: ErrorCodes.InvalidRequest, message: expect.stringContaining('initialize') },
    });
    const empty = await post(s, []);
    expect([empty.status, ((await empty.json()) as { error: { code: number } }).error.code]).toEqual([
      400,
      ErrorCodes.InvalidRequest,
    ]);
    const invalid = await post(s, [toolCall(1, 'echo'), { jsonrpc: '2.0', id: 2 }]);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual([
      expect.objectContaining({ id: 2, error: expect.objectContaining({ code: ErrorCodes.InvalidRequest }) }),
    ]);
    expect(router.calls.length).toBe(before);
  });
});

describe('audit records of a batch', () => {
  let dir: string;
  let audited: IngressHandle;
  let bus: Bus;
  const events: AuditEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mg-ingress-batch-'));
    bus = await Bus.connect({ url: nats.url, name: 'batch-audit-test' });
    bus.nc.subscribe('mg.audit.>', {
      callback: (_err, msg) => void events.push(...eventsOf(AuditMessage.parse(msg.json()))),
    });
    await bus.nc.flush();
    audited = await start(testConfig(nats.url, { MESHGATE_AUDIT: 'on', MESHGATE_AUDIT_SPOOL_DIR: dir }));
  });

  afterAll(async () => {
    await audited?.stop();
    await bus?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records every request of a batch like a request sent alone (ping excepted)', async () => {
    const s = await batchSession(audited.url);
    const res = await post(s, [toolCall(11, 'echo'), request(12, 'ping'), toolCall(13, 'fail')]);
    expect(res.status).toBe(200);
    const mine = () => events.filter((e) => e.session === s.id && e.method === 'tools/call');
    await router.until(() => mine().length === 4);
    const byRequest = (id: number) =>
      mine()
        .filter((e) => e.requestId === id)
        .map((e) => e.kind)
        .sort();
    expect(byRequest(11)).toEqual(['request-received', 'response-sent']);
    expect(byRequest(13)).toEqual(['request-received', 'response-sent']);
    expect(mine().find((e) => e.requestId === 13 && e.kind === 'response-sent')).toMatchObject({
      outcome: 'error',
    });
    expect(events.some((e) => e.session === s.id && e.method === 'ping')).toBe(false);
  });
});
