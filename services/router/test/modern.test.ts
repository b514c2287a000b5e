/**
 * Session-era agents (2025) through the router to a 2026-07-28-only upstream (the SDK v2 modern fixture)
 * over HTTP and over stdio: initialize answered from server/discover, lists, structured output, a resource,
 * a prompt and progress in the agent's own era, `input_required` turned into real elicitation and sampling
 * requests on the call's stream (and the upstream call retried with the answers), a clear error for an agent
 * without the capability an input needs, ping, and resource subscriptions carried by subscriptions/listen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects, type SessionInfo } from '@meshgate/contracts';
import {
  MODERN_GREETING_TEXT,
  MODERN_GREETING_URI,
  MODERN_INSTRUCTIONS,
  MODERN_SERVER_INFO,
  modernServerStdioCommand,
  startModernServerHttp,
  type ModernHttpServer,
} from '@meshgate/testing';
import {
  errorOf,
  eventually,
  newSession,
  resultOf,
  routerDir,
  startHarness,
  uniqueName,
  type Harness,
} from './harness';

let h: Harness;
let fixture: ModernHttpServer;
const overHttp = uniqueName('modern-http');
const overStdio = uniqueName('modern-stdio');

beforeAll(async () => {
  fixture = await startModernServerHttp();
  h = await startHarness();
  await h.put({ name: overHttp, transport: 'streamable-http', url: fixture.url });
  await h.put({ name: overStdio, transport: 'stdio', ...modernServerStdioCommand(), cwd: routerDir });
});
afterAll(async () => {
  await h?.close();
  await fixture?.close();
});

const AllCapabilities = { sampling: {}, elicitation: {}, roots: {} };

/** A session of `server`'s own endpoint, negotiated at `version`. */
function agent(
  server: string,
  version = '2025-11-25',
  capabilities: Record<string, unknown> = AllCapabilities,
): SessionInfo {
  return { ...newSession({ kind: 'server', server }, capabilities), protocolVersion: version };
}

const streamSubject = (tag: string) =>
  Subjects.ingressStream('ingress-test', `${tag}${Math.floor(Math.random() * 1e9)}`);

/** Answers the first server-to-client request of `method` published on `stream` with `result`. */
async function answerOn(
  stream: { messages: Record<string, unknown>[] },
  session: SessionInfo,
  method: string,
  result: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const request = await eventually(() => stream.messages.find((m) => m['method'] === method));
  h.bus.publish(Subjects.routerToUpstream(h.router.instanceId), {
    v: 1,
    sessionId: session.id,
    message: { jsonrpc: '2.0', id: request['id'], result },
  });
  return request;
}

const StatelessOnly = ['resultType', 'ttlMs', 'cacheScope'];

describe.each([
  ['HTTP', () => overHttp],
  ['stdio', () => overStdio],
])('a 2026-07-28 upstream over %s, for 2025-era agents', (_wire, server) => {
  it('answers initialize from server/discover in the version the agent negotiated', async () => {
    const init = resultOf(await h.call(agent(server()), 'initialize', { protocolVersion: '2025-06-18' }));
    expect(init).toMatchObject({
      protocolVersion: '2025-06-18',
      serverInfo: MODERN_SERVER_INFO,
      capabilities: { tools: { listChanged: true }, resources: { subscribe: true } },
      instructions: MODERN_INSTRUCTIONS,
    });
  });

  it('lists tools without the stateless-only fields', async () => {
    const list = resultOf(await h.call(agent(server()), 'tools/list'));
    expect((list['tools'] as { name: string }[]).map((t) => t.name)).toEqual([
      'weather',
      'countdown',
      'wait',
      'confirm',
      'summarize',
      'roots',
      'touch',
    ]);
    for (const key of StatelessOnly) expect(list).not.toHaveProperty(key);
  });

  it('calls a tool with structured output, given to an older agent as text only', async () => {
    const current = resultOf(
      await h.call(agent(server()), 'tools/call', { name: 'weather', arguments: { city: 'Oslo' } }),
    );
    expect(current).toEqual({
      content: [{ type: 'text', text: '{"city":"Oslo","temperatureC":21.5,"conditions":"clear"}' }],
      structuredContent: { city: 'Oslo', temperatureC: 21.5, conditions: 'clear' },
    });
    const older = resultOf(
      await h.call(agent(server(), '2025-03-26'), 'tools/call', {
        name: 'weather',
        arguments: { city: 'Oslo' },
      }),
    );
    expect(older).toEqual({
      content: [{ type: 'text', text: '{"city":"Oslo","temperatureC":21.5,"conditions":"clear"}' }],
    });
  });

  it('reads a resource and gets a prompt', async () => {
    const read = resultOf(await h.call(agent(server()), 'resources/read', { uri: MODERN_GREETING_URI }));
    expect(read).toEqual({
      contents: [{ uri: MODERN_GREETING_URI, mimeType: 'text/plain', text: MODERN_GREETING_TEXT }],
    });
    const prompt = resultOf(
      await h.call(agent(server()), 'prompts/get', { name: 'haiku', arguments: { topic: 'eras' } }),
    );
    expect(prompt).toEqual({
      messages: [{ role: 'user', content: { type: 'text', text: 'Write a haiku about eras.' } }],
    });
  });

  it("relays progress on the agent's own token to the call's stream", async () => {
    const stream = streamSubject('p');
    const seen = h.collect(stream);
    const out = resultOf(
      await h.call(
        agent(server()),
        'tools/call',
        { name: 'countdown', arguments: { steps: 3 }, _meta: { progressToken: 'agent-token' } },
        { stream },
      ),
    );
    expect(out).toEqual({ content: [{ type: 'text', text: 'counted down 3 steps' }] });
    await eventually(() => seen.messages.length === 3);
    expect(seen.messages.map((m) => m['params'])).toEqual(
      [1, 2, 3].map((progress) => ({
        progressToken: 'agent-token',
        progress,
        total: 3,
        message: `step ${progress}`,
      })),
    );
  });

  it('turns input_required into an elicitation request on the call stream and retries with the answer', async () => {
    const session = agent(server());
    const stream = streamSubject('e');
    const seen = h.collect(stream);
    const calling = h.call(
      session,
      'tools/call',
      { name: 'confirm', arguments: { action: 'deploy' } },
      { stream },
    );
    const request = await answerOn(seen, session, 'elicitation/create', {
      action: 'accept',
      content: { confirmed: true },
    });
    expect(request['id']).toMatch(new RegExp(`^mg:${h.router.instanceId}:\\d+$`));
    expect(request['params']).toMatchObject({
      message: 'Confirm deploy?',
      requestedSchema: { type: 'object' },
    });
    expect(resultOf(await calling)).toEqual({ content: [{ type: 'text', text: 'deploy: confirmed' }] });
  });

  it('turns input_required into a sampling request and retries with the answer', async () => {
    const session = agent(server());
    const stream = streamSubject('s');
    const seen = h.collect(stream);
    const calling = h.call(
      session,
      'tools/call',
      { name: 'summarize', arguments: { text: 'long' } },
      { stream },
    );
    const request = await answerOn(seen, session, 'sampling/createMessage', {
      role: 'assistant',
      content: { type: 'text', text: 'brief' },
      model: 'm',
    });
    expect(request['params']).toMatchObject({ maxTokens: 100 });
    expect(resultOf(await calling)).toEqual({ content: [{ type: 'text', text: 'summary: brief' }] });
  });

  it('turns input_required into a roots/list request and retries with the roots', async () => {
    const session = agent(server());
    const stream = streamSubject('r');
    const seen = h.collect(stream);
    const calling = h.call(session, 'tools/call', { name: 'roots', arguments: {} }, { stream });
    await answerOn(seen, session, 'roots/list', { roots: [{ uri: 'file:///work', name: 'work' }] });
    expect(resultOf(await calling)).toEqual({ content: [{ type: 'text', text: 'roots: file:///work' }] });
  });

  it('ends a call cancelled while its input is asked, and withdraws the question', async () => {
    const session = agent(server());
    const stream = streamSubject('c');
    const seen = h.collect(stream);
    const calling = h.call(
      session,
      'tools/call',
      { name: 'confirm', arguments: { action: 'drop' } },
      { stream, id: 'call-77' },
    );
    const request = await eventually(() => seen.messages.find((m) => m['method'] === 'elicitation/create'));
    h.bus.publish(Subjects.sessionToUpstream(session.id), {
      v: 1,
      sessionId: session.id,
      message: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'call-77' } },
    });
    expect(errorOf(await calling)).toEqual({ code: -32800, message: 'request cancelled' });
    const withdrawn = await eventually(() =>
      seen.messages.find((m) => m['method'] === 'notifications/cancelled'),
    );
    expect(withdrawn['params']).toMatchObject({ requestId: request['id'] });
  });

  it('refuses a call needing input the agent cannot give, naming the capability', async () => {
    const err = errorOf(
      await h.call(agent(server(), '2025-11-25', { roots: {} }), 'tools/call', {
        name: 'summarize',
        arguments: { text: 'x' },
      }),
    );
    expect(err.code).toBe(-32602);
    expect(err.message).toMatch(/sampling/);
  });

  it('cancels an upstream call when the agent cancels it', async () => {
    const session = agent(server());
    const hangUps = fixture.hangUps();
    const calling = h.call(
      session,
      'tools/call',
      { name: 'wait', arguments: { ms: 30_000 } },
      { id: 'long-1' },
    );
    await new Promise((r) => setTimeout(r, 300));
    h.bus.publish(Subjects.sessionToUpstream(session.id), {
      v: 1,
      sessionId: session.id,
      message: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'long-1' } },
    });
    expect(errorOf(await calling)).toEqual({ code: -32800, message: 'request cancelled' });
    // Over HTTP the request's stream is closed: that is how a 2026-07-28 client cancels.
    if (server() === overHttp) await eventually(() => fixture.hangUps() > hangUps);
  });

  it('answers ping itself (the upstream has none)', async () => {
    expect(resultOf(await h.call(agent(server()), 'ping'))).toEqual({});
  });

  it('delivers resources/updated for a subscription carried by subscriptions/listen', async () => {
    const subscriber = agent(server());
    const toAgent = h.collect(Subjects.sessionToAgent(subscriber.id));
    expect(resultOf(await h.call(subscriber, 'resources/subscribe', { uri: MODERN_GREETING_URI }))).toEqual(
      {},
    );
    resultOf(await h.call(agent(server()), 'tools/call', { name: 'touch', arguments: {} }));
    const updated = await eventually(() =>
      toAgent.messages.find((m) => m['method'] === 'notifications/resources/updated'),
    );
    expect(updated['params']).toEqual({ uri: MODERN_GREETING_URI });
    expect(resultOf(await h.call(subscriber, 'resources/unsubscribe', { uri: MODERN_GREETING_URI }))).toEqual(
      {},
    );
  });
});

describe('a 2026-07-28 upstream for other agents', () => {
  it('passes input_required through to a 2026-07-28 agent, which retries itself', async () => {
    const modernAgent = agent(overHttp, '2026-07-28');
    const first = resultOf(
      await h.call(modernAgent, 'tools/call', { name: 'confirm', arguments: { action: 'ship' } }),
    );
    expect(first).toMatchObject({
      resultType: 'input_required',
      inputRequests: { confirm: { method: 'elicitation/create' } },
      requestState: 'confirm:ship',
    });
    const retried = resultOf(
      await h.call(modernAgent, 'tools/call', {
        name: 'confirm',
        arguments: { action: 'ship' },
        inputResponses: { confirm: { action: 'accept', content: { confirmed: true } } },
        requestState: first['requestState'],
      }),
    );
    expect(retried).toMatchObject({
      content: [{ type: 'text', text: 'ship: confirmed' }],
      resultType: 'complete',
    });
  });

  it('is federated with namespaced names, its input asked of a federated 2025 agent', async () => {
    const session = { ...newSession({ kind: 'federated' }, AllCapabilities), protocolVersion: '2025-06-18' };
    const tools = (resultOf(await h.call(session, 'tools/list'))['tools'] as { name: string }[]).map(
      (t) => t.name,
    );
    expect(tools).toEqual(expect.arrayContaining([`${overHttp}__weather`, `${overStdio}__confirm`]));
    const stream = streamSubject('f');
    const seen = h.collect(stream);
    const calling = h.call(
      session,
      'tools/call',
      { name: `${overStdio}__confirm`, arguments: { action: 'merge' } },
      { stream },
    );
    await answerOn(seen, session, 'elicitation/create', { action: 'decline' });
    expect(resultOf(await calling)).toEqual({ content: [{ type: 'text', text: 'merge: decline' }] });
  });
});
