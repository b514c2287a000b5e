/**
 * The router against HTTP upstreams served by the SDK in this process: Streamable HTTP (exact attribution
 * of server-to-client requests, the GET stream, expired sessions) and legacy HTTP+SSE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects } from '@meshgate/contracts';
import { startHttpFixture, type HttpFixture } from './fixtures/http-fixture';
import {
  errorOf,
  eventually,
  newSession,
  resultOf,
  startHarness,
  stdioFixture,
  uniqueName,
  type Harness,
} from './harness';

let h: Harness;
let fixture: HttpFixture;
const web = uniqueName('web');
const legacy = uniqueName('legacy');
const local = uniqueName('local');
const detected = uniqueName('detected');

beforeAll(async () => {
  fixture = await startHttpFixture();
  h = await startHarness();
  await h.put({ name: web, transport: 'streamable-http', url: fixture.url, headers: { 'X-Test': 'yes' } });
  await h.put({ name: legacy, transport: 'sse', url: fixture.sseUrl });
  await h.put({ name: detected, transport: 'auto', url: fixture.sseUrl });
  await h.put(stdioFixture(local));
});
afterAll(async () => {
  await h?.close();
  await fixture?.close();
});

const streamSubject = (tag: string) =>
  Subjects.ingressStream('ingress-test', `${tag}${Math.floor(Math.random() * 1e9)}`);

describe('Streamable HTTP upstream', () => {
  it('forwards calls and relays progress on the call stream', async () => {
    const s = newSession({ kind: 'server', server: web });
    const init = resultOf(await h.call(s, 'initialize', { protocolVersion: '2025-03-26' }));
    expect(init).toMatchObject({ protocolVersion: '2025-03-26', serverInfo: { name: 'fixture-http' } });
    const stream = streamSubject('p');
    const seen = h.collect(stream);
    const out = resultOf(
      await h.call(
        s,
        'tools/call',
        { name: 'slow', arguments: { steps: 2, ms: 10 }, _meta: { progressToken: 5 } },
        { stream },
      ),
    );
    expect(out).toEqual({ content: [{ type: 'text', text: 'done after 2 steps' }] });
    await eventually(() => seen.messages.length === 2);
    expect(seen.messages.map((m) => (m['params'] as Record<string, unknown>)['progressToken'])).toEqual([
      5, 5,
    ]);
  });

  it('resumes a response stream the upstream closed early (Last-Event-ID)', async () => {
    const s = newSession({ kind: 'server', server: web });
    const stream = streamSubject('r');
    const seen = h.collect(stream);
    const params = { name: 'interrupted', _meta: { progressToken: 'r' } };
    expect(resultOf(await h.call(s, 'tools/call', params, { stream }))).toEqual({
      content: [{ type: 'text', text: 'done after 3 steps' }],
    });
    await eventually(() => seen.messages.length === 3);
    expect(seen.messages.map((m) => (m['params'] as Record<string, unknown>)['progress'])).toEqual([1, 2, 3]);
  });

  it('attributes concurrent sampling requests of two sessions exactly', async () => {
    const sessions = [newSession({ kind: 'server', server: web }), newSession({ kind: 'federated' })];
    const streams = [streamSubject('a'), streamSubject('b')];
    const seen = streams.map((st) => h.collect(st));
    const calls = [
      h.call(
        sessions[0]!,
        'tools/call',
        { name: 'sample', arguments: { prompt: 'first' } },
        { stream: streams[0]! },
      ),
      h.call(
        sessions[1]!,
        'tools/call',
        { name: `${web}__sample`, arguments: { prompt: 'second' } },
        { stream: streams[1]! },
      ),
    ];
    const requests = await Promise.all(
      seen.map((c) => eventually(() => c.messages.find((m) => m['method'] === 'sampling/createMessage'))),
    );
    expect(JSON.stringify(requests[0])).toContain('first');
    expect(JSON.stringify(requests[1])).toContain('second');
    requests.forEach((req, i) =>
      h.bus.publish(Subjects.routerToUpstream(h.router.instanceId), {
        v: 1,
        sessionId: sessions[i]!.id,
        message: {
          jsonrpc: '2.0',
          id: req['id'],
          result: { role: 'assistant', content: { type: 'text', text: `answer ${i}` }, model: 'm' },
        },
      }),
    );
    const results = await Promise.all(calls);
    expect(resultOf(results[0]!)).toEqual({ content: [{ type: 'text', text: 'sampled: answer 0' }] });
    expect(resultOf(results[1]!)).toEqual({ content: [{ type: 'text', text: 'sampled: answer 1' }] });
  });

  it('delivers resources/updated from the GET stream to subscribed sessions only, namespaced', async () => {
    const subscriber = newSession({ kind: 'federated' });
    const bystander = newSession({ kind: 'federated' });
    const toSubscriber = h.collect(Subjects.sessionToAgent(subscriber.id));
    const toBystander = h.collect(Subjects.sessionToAgent(bystander.id));
    resultOf(await h.call(bystander, 'ping'));
    expect(
      resultOf(await h.call(subscriber, 'resources/subscribe', { uri: `${web}+fixture://greeting` })),
    ).toEqual({});
    resultOf(
      await h.call(bystander, 'tools/call', {
        name: `${web}__touch`,
        arguments: { uri: 'fixture://greeting' },
      }),
    );
    const updated = await eventually(() =>
      toSubscriber.messages.find((m) => m['method'] === 'notifications/resources/updated'),
    );
    expect(updated['params']).toEqual({ uri: `${web}+fixture://greeting` });
    expect(toBystander.messages.filter((m) => m['method'] === 'notifications/resources/updated')).toEqual([]);
  });

  it('filters log messages below the level the session set', async () => {
    const s = newSession({ kind: 'server', server: web });
    expect(resultOf(await h.call(s, 'logging/setLevel', { level: 'error' }))).toEqual({});
    const stream = streamSubject('l');
    const seen = h.collect(stream);
    resultOf(
      await h.call(s, 'tools/call', { name: 'log', arguments: { level: 'info', text: 'quiet' } }, { stream }),
    );
    resultOf(
      await h.call(s, 'tools/call', { name: 'log', arguments: { level: 'error', text: 'loud' } }, { stream }),
    );
    await eventually(() => seen.messages.length > 0);
    expect(seen.messages.map((m) => m['params'])).toEqual([{ level: 'error', data: 'loud' }]);
  });

  it('re-initialises when the upstream forgot the session, and the call still succeeds', async () => {
    const s = newSession({ kind: 'server', server: web });
    resultOf(await h.call(s, 'ping'));
    const before = fixture.initializeCount();
    await fixture.expireSessions();
    const echo = resultOf(await h.call(s, 'tools/call', { name: 'echo', arguments: { text: 'back' } }));
    expect(echo).toEqual({ content: [{ type: 'text', text: 'echo: back' }] });
    expect(fixture.initializeCount()).toBeGreaterThan(before);
  });
});

describe('legacy HTTP+SSE upstream', () => {
  it('forwards calls over the event stream', async () => {
    const s = newSession({ kind: 'server', server: legacy });
    expect(resultOf(await h.call(s, 'initialize', {}))).toMatchObject({
      serverInfo: { name: 'fixture-sse' },
    });
    expect(resultOf(await h.call(s, 'tools/call', { name: 'echo', arguments: { text: 'old' } }))).toEqual({
      content: [{ type: 'text', text: 'echo: old' }],
    });
  });
});

describe('an auto definition', () => {
  it('finds the legacy HTTP+SSE endpoint behind its URL and forwards calls over it', async () => {
    const s = newSession({ kind: 'server', server: detected });
    expect(resultOf(await h.call(s, 'initialize', {}))).toMatchObject({
      serverInfo: { name: 'fixture-sse' },
    });
    expect(resultOf(await h.call(s, 'tools/call', { name: 'echo', arguments: { text: 'found' } }))).toEqual({
      content: [{ type: 'text', text: 'echo: found' }],
    });
  });
});

describe('attribution on a shared stdio connection', () => {
  it('refuses a server-to-client request while calls of two sessions are in flight', async () => {
    const busy = newSession({ kind: 'server', server: local });
    const asker = newSession({ kind: 'server', server: local });
    resultOf(await h.call(busy, 'ping'));
    const slow = h.call(busy, 'tools/call', { name: 'slow', arguments: { steps: 10, ms: 50 } });
    await new Promise((r) => setTimeout(r, 100));
    const refused = errorOf(
      await h.call(asker, 'tools/call', { name: 'sample', arguments: { prompt: 'x' } }),
    );
    expect(refused.message).toMatch(/cannot tell which client session/);
    expect(resultOf(await slow)).toEqual({ content: [{ type: 'text', text: 'done after 10 steps' }] });
  });
});
