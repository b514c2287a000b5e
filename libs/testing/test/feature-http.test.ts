/**
 * The feature fixture over Streamable HTTP: the shared suite, SEP-1699 polling with Last-Event-ID
 * resumption, sessions that share state, stateless and JSON-response modes, and bad HTTP input.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  COUNTER_URI,
  ERAS,
  connectHttpProbe,
  connectProbe,
  featureSuite,
  firstText,
  perServerNaming,
  startFeatureServerHttp,
  structured,
  waitUntil,
  type FeatureHttpServer,
} from '../src/index';

describe('feature fixture over stateful Streamable HTTP', () => {
  let fixture: FeatureHttpServer;
  beforeAll(async () => {
    fixture = await startFeatureServerHttp();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  for (const era of ERAS) {
    describe(`feature suite, protocol ${era}`, () => {
      featureSuite((asked) => connectHttpProbe(fixture.url, { era: asked }), {
        naming: perServerNaming,
        era,
      });
    });
  }

  it('pollResume closes its SSE stream mid-call and the client resumes it with Last-Event-ID', async () => {
    const probe = await connectHttpProbe(fixture.url);
    try {
      const progressToken = randomUUID();
      const result = await probe.client.callTool({
        name: 'pollResume',
        arguments: { pauseMs: 300 },
        _meta: { progressToken },
      });
      expect(structured(result)).toEqual({ streamClosed: true });
      await waitUntil(
        () => probe.progressFor(progressToken).length === 2,
        5000,
        'two progress notifications',
      );
      expect(probe.progressFor(progressToken).map((p) => p['message'])).toEqual([
        'before the stream closed',
        'after the stream closed',
      ]);
      expect(
        probe.exchanges.some((e) => e.method === 'GET' && e.lastEventId !== null && e.status === 200),
      ).toBe(true);
    } finally {
      await probe.close();
    }
  });

  it('gives each session its own connection and session ids over one shared state', async () => {
    const [first, second] = [await connectHttpProbe(fixture.url), await connectHttpProbe(fixture.url)];
    try {
      const [a, b] = [
        structured(await first.client.callTool({ name: 'whoami' })),
        structured(await second.client.callTool({ name: 'whoami' })),
      ];
      expect(a['server']).toBe(b['server']);
      expect(a['server']).toBe(fixture.state.id);
      expect(a['connection']).not.toBe(b['connection']);
      expect(a['session']).toMatch(/^[0-9a-f-]{36}$/);
      expect(a['session']).not.toBe(b['session']);
      await first.client.subscribeResource({ uri: COUNTER_URI });
      await second.client.callTool({ name: 'notifyChanged' });
      await first.waitFor((n) => n.method === 'notifications/resources/updated');
      expect(second.count('notifications/resources/updated')).toBe(0);
      const open = fixture.openSessions();
      await (second.client.transport as StreamableHTTPClientTransport).terminateSession();
      expect(fixture.openSessions()).toBe(open - 1);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('answers bad HTTP input with JSON-RPC errors and the right status', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(fixture.url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      });
    const parse = await post('{not json');
    expect(parse.status).toBe(400);
    expect(await parse.json()).toMatchObject({ error: { code: -32700 } });
    expect((await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }))).status).toBe(400);
    expect(
      (
        await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), {
          'mcp-session-id': 'nope',
        })
      ).status,
    ).toBe(404);
    expect((await post('x'.repeat(4 * 1024 * 1024 + 1))).status).toBe(413);
    expect((await fetch(fixture.url.replace('/mcp', '/other'))).status).toBe(404);
    expect((await fetch(fixture.url, { method: 'PUT' })).status).toBe(405);
    expect((await fetch(fixture.url, { headers: { accept: 'text/event-stream' } })).status).toBe(400);
  });
});

describe('feature fixture over Streamable HTTP, other modes', () => {
  it('stateless mode serves each POST with a fresh server and no session', async () => {
    const fixture = await startFeatureServerHttp({ stateful: false });
    const probe = await connectProbe(new StreamableHTTPClientTransport(new URL(fixture.url)));
    try {
      expect(firstText(await probe.client.callTool({ name: 'echo', arguments: { text: 'stateless' } }))).toBe(
        'stateless',
      );
      const [a, b] = [
        structured(await probe.client.callTool({ name: 'whoami' })),
        structured(await probe.client.callTool({ name: 'whoami' })),
      ];
      expect(a['session']).toBeNull();
      expect(a['connection']).not.toBe(b['connection']);
      expect(a['server']).toBe(b['server']);
      expect(fixture.openSessions()).toBe(0);
    } finally {
      await probe.close();
      await fixture.close();
    }
  });

  it('json mode answers POSTs with application/json', async () => {
    const fixture = await startFeatureServerHttp({ json: true });
    const probe = await connectHttpProbe(fixture.url);
    try {
      expect(structured(await probe.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }))).toEqual({
        sum: 3,
      });
      const posts = probe.exchanges.filter((e) => e.method === 'POST' && e.status === 200);
      expect(posts.length).toBeGreaterThan(0);
      expect(posts.every((e) => e.contentType?.startsWith('application/json'))).toBe(true);
    } finally {
      await probe.close();
      await fixture.close();
    }
  });
});
