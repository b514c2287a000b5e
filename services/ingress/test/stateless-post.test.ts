/**
 * 2026-07-28 agents over HTTP with the fake router: every refusal of the spec with its code and status,
 * `server/discover`, virtual sessions (opened once, shared by every replica, never usable as a session),
 * up-converted results and errors, progress on the request's own stream, 405 for GET and DELETE, and
 * session-era clients unchanged beside them. The NATS is spawned for this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { decodeJson } from '@meshgate/bus';
import { Buckets, ErrorCodes, SessionRecord, type RouterCall } from '@meshgate/contracts';
import { MetaKeys, ModernErrorCodes } from '../src/modern-envelope';
import { virtualSessionId } from '../src/virtual-session';
import { AnonymousPrincipal } from '../src/request-principal';
import { SseReader, data, openSession, post, toolCall } from './harness';
import {
  CAPS,
  MODERN,
  STATE_KEY,
  modernPost,
  modernRequest,
  startModernStack,
  type ModernStack,
} from './modern-harness';

let stack: ModernStack;

beforeAll(async () => {
  stack = await startModernStack([{}, {}]);
});

afterAll(async () => {
  await stack?.stop();
});

const callsOf = (method: string): RouterCall[] =>
  stack.router.calls.filter((c) => c.message.method === method);

describe('refusals', () => {
  it('answers header mismatches with -32020 and HTTP 400', async () => {
    const body = modernRequest(1, 'tools/call', { name: 'echo', arguments: {} });
    for (const headers of [
      { 'mcp-name': 'other' },
      { 'mcp-method': undefined },
      { 'mcp-method': 'tools/list' },
      { 'mcp-protocol-version': undefined },
      { 'mcp-protocol-version': '2025-11-25' },
      { 'mcp-name': undefined },
    ]) {
      const res = await modernPost(stack.url(0), body, headers);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ id: 1, error: { code: ModernErrorCodes.HeaderMismatch } });
    }
  });

  it('answers an unknown version with -32022, HTTP 400 and the supported versions', async () => {
    const body = modernRequest(2, 'tools/list');
    body.params._meta[MetaKeys.protocolVersion] = '2027-01-01';
    const res = await modernPost(stack.url(0), body, { 'mcp-protocol-version': '2027-01-01' });
    expect(res.status).toBe(400);
    const answer = (await res.json()) as {
      error: { code: number; data: { supported: string[]; requested: string } };
    };
    expect(answer.error.code).toBe(ModernErrorCodes.UnsupportedProtocolVersion);
    expect(answer.error.data.requested).toBe('2027-01-01');
    expect(answer.error.data.supported[0]).toBe(MODERN);
  });

  it('answers a missing or malformed envelope with -32602 and HTTP 400', async () => {
    const missing = modernRequest(3, 'tools/list');
    delete (missing.params._meta as Record<string, unknown>)[MetaKeys.clientCapabilities];
    const res = await modernPost(stack.url(0), missing);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: 3, error: { code: ErrorCodes.InvalidParams } });
    const bare = await modernPost(stack.url(0), { jsonrpc: '2.0', id: 4, method: 'tools/list', params: {} });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ id: 4, error: { code: ErrorCodes.InvalidParams } });
  });

  it('answers methods the era removed with -32601 and HTTP 404, initialize with a modern header with -32020', async () => {
    for (const method of ['ping', 'logging/setLevel', 'resources/subscribe', 'initialize']) {
      const res = await modernPost(stack.url(0), modernRequest(5, method, { uri: 'x://y', level: 'info' }));
      expect([method, res.status]).toEqual([method, 404]);
      expect(await res.json()).toMatchObject({ error: { code: ErrorCodes.MethodNotFound } });
    }
    const init = await post(
      { base: stack.ingress[0]!.url, path: '/mcp' },
      { jsonrpc: '2.0', id: 6, method: 'initialize', params: { protocolVersion: MODERN, capabilities: {} } },
      { headers: { 'mcp-protocol-version': MODERN } },
    );
    expect(init.status).toBe(400);
    expect(await init.json()).toMatchObject({ error: { code: ModernErrorCodes.HeaderMismatch } });
  });

  it('answers invalid params in-band with -32602', async () => {
    const res = await modernPost(stack.url(0), modernRequest(7, 'tools/call', { arguments: {} }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 7, error: { code: ErrorCodes.InvalidParams } });
  });

  it('accepts and drops notifications with 202', async () => {
    const res = await modernPost(stack.url(0), {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1, _meta: { [MetaKeys.protocolVersion]: MODERN } },
    });
    expect(res.status).toBe(202);
  });

  it('answers GET and DELETE of a 2026-07-28 agent with 405', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(stack.url(0), {
        method,
        headers: { accept: 'text/event-stream', 'mcp-protocol-version': MODERN },
      });
      expect([method, res.status, res.headers.get('allow')]).toEqual([method, 405, 'POST']);
    }
  });
});

describe('server/discover and virtual sessions', () => {
  it('answers discover from the virtual session the first request opened', async () => {
    const before = callsOf('initialize').length;
    const res = await modernPost(stack.url(0), modernRequest(10, 'server/discover'));
    expect(res.status).toBe(200);
    const { result } = (await res.json()) as { result: Record<string, unknown> };
    expect(result).toMatchObject({
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'private',
      capabilities: { tools: { listChanged: true } },
      _meta: { [MetaKeys.serverInfo]: { name: 'fake-router' } },
    });
    expect((result['supportedVersions'] as string[])[0]).toBe(MODERN);
    const init = callsOf('initialize').slice(before);
    expect(init).toHaveLength(1);
    expect(init[0]!.session.protocolVersion).toBe(MODERN);
    expect(init[0]!.session.clientCapabilities).toEqual(CAPS);
    expect(init[0]!.message.params?.['protocolVersion']).toBe('2025-11-25');
  });

  it('reuses one virtual session on every replica, stored in KV at the agent version', async () => {
    const caps = { elicitation: {} };
    const before = stack.router.calls.length;
    for (const [i, replica] of [0, 1, 0, 1].entries()) {
      const res = await modernPost(stack.url(replica), modernRequest(20 + i, 'tools/list', {}, caps));
      expect(await res.json()).toMatchObject({ id: 20 + i, result: { tools: [{ name: 'echo' }] } });
    }
    const calls = stack.router.calls.slice(before);
    const sid = virtualSessionId(STATE_KEY, {
      principal: AnonymousPrincipal,
      target: { kind: 'federated' },
      version: MODERN,
      capabilities: caps,
    });
    expect(new Set(calls.map((c) => c.session.id))).toEqual(new Set([sid]));
    // Opened once on replica 0; replica 1 asked the pinned router once for the facts; then only lists.
    expect(calls.map((c) => c.message.method)).toEqual([
      'initialize',
      'tools/list',
      'initialize',
      'tools/list',
      'tools/list',
      'tools/list',
    ]);
    const kv = await new Kvm(stack.bus.nc).open(Buckets.sessions);
    const entry = await kv.get(sid);
    expect(decodeJson(SessionRecord, entry!.value, 'record').session.protocolVersion).toBe(MODERN);
    // Never usable as a session of the session eras.
    const s = { base: stack.ingress[0]!.url, path: '/mcp', id: sid, version: '2025-11-25' };
    const asSession = await post(s, toolCall(30, 'echo'));
    expect(asSession.status).toBe(404);
  });

  it('answers per-server targets in sessions of their own', async () => {
    const res = await modernPost(stack.url(0, '/servers/alpha/mcp'), modernRequest(31, 'tools/list'));
    expect(res.status).toBe(200);
    const last = stack.router.calls.at(-1)!;
    expect(last.session.target).toEqual({ kind: 'server', server: 'alpha' });
  });
});

describe('calls', () => {
  it('up-converts a tool result and sends the router a session-era request under its own id', async () => {
    const res = await modernPost(
      stack.url(1),
      modernRequest(40, 'tools/call', { name: 'echo', arguments: { a: 1 } }),
    );
    expect(res.headers.get('content-type')).toContain('application/json');
    const answer = (await res.json()) as { id: number; result: Record<string, unknown> };
    expect(answer).toMatchObject({
      id: 40,
      result: {
        resultType: 'complete',
        content: [{ type: 'text', text: '{"a":1}' }],
        structuredContent: { router: 'router-modern' },
        _meta: { [MetaKeys.serverInfo]: { name: 'fake-router' } },
      },
    });
    expect(answer.result).not.toHaveProperty('ttlMs');
    const sent = callsOf('tools/call').at(-1)!;
    expect(sent.message.id).not.toBe(40);
    expect(sent.message.params).toEqual({ name: 'echo', arguments: { a: 1 } });
  });

  it('streams progress on the request own token, without event ids, then the result', async () => {
    const res = await modernPost(
      stack.url(0),
      modernRequest(41, 'tools/call', { name: 'progress', _meta: { progressToken: 'mine' } }),
    );
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await new SseReader(res).rest();
    expect(events.every((e) => e.id === undefined)).toBe(true);
    expect(events.map((e) => data(e))).toMatchObject([
      { method: 'notifications/progress', params: { progressToken: 'mine', progress: 1 } },
      { method: 'notifications/progress', params: { progressToken: 'mine', progress: 2 } },
      { id: 41, result: { resultType: 'complete', content: [{ text: 'done' }] } },
    ]);
  });

  it('maps resource-not-found to -32602 with the URI, and fills the cache hint of a read', async () => {
    const missing = await modernPost(
      stack.url(0),
      modernRequest(42, 'resources/read', { uri: 'missing://x' }),
    );
    expect(await missing.json()).toMatchObject({
      id: 42,
      error: { code: ErrorCodes.InvalidParams, data: { uri: 'missing://x' } },
    });
    const read = await modernPost(stack.url(0), modernRequest(43, 'resources/read', { uri: 'res://ü' }));
    expect(await read.json()).toMatchObject({
      id: 43,
      result: { contents: [{ uri: 'res://ü' }], ttlMs: 0, cacheScope: 'private', resultType: 'complete' },
    });
  });

  it('refuses a forged requestState and starts nothing', async () => {
    const before = callsOf('tools/call').length;
    const res = await modernPost(
      stack.url(0),
      modernRequest(44, 'tools/call', { name: 'echo', requestState: 'mg1.eyJrIjoiaG9sZCJ9.AAAA' }),
    );
    expect(await res.json()).toMatchObject({
      id: 44,
      error: { code: ErrorCodes.InvalidParams, message: expect.stringContaining('invalid requestState') },
    });
    expect(callsOf('tools/call')).toHaveLength(before);
  });

  it('cancels the call upstream when the agent closes its response', async () => {
    const abort = new AbortController();
    const pending = modernPost(
      stack.url(0),
      modernRequest(45, 'tools/call', { name: 'hang' }),
      {},
      abort.signal,
    );
    await stack.router.until(() => callsOf('tools/call').some((c) => c.message.params?.['name'] === 'hang'));
    const sent = callsOf('tools/call').find((c) => c.message.params?.['name'] === 'hang')!;
    abort.abort();
    await expect(pending).rejects.toThrow();
    await stack.router.until(() =>
      stack.router.toUpstream.some(
        (u) =>
          u.payload.sessionId === sent.session.id &&
          JSON.stringify(u.payload.message).includes('notifications/cancelled') &&
          JSON.stringify(u.payload.message).includes(String(sent.message.id)),
      ),
    );
  });

  it('leaves session-era clients as they were', async () => {
    const s = await openSession(stack.ingress[1]!.url);
    const res = await post(s, toolCall(50, 'echo', { x: 1 }));
    const answer = (await res.json()) as { result: Record<string, unknown> };
    expect(answer.result).not.toHaveProperty('resultType');
    expect(answer.result).toMatchObject({ content: [{ text: '{"x":1}' }] });
  });
});
