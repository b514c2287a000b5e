/**
 * The router against stdio upstreams (the fixture server spawned as a child process): per-server
 * passthrough, federation with namespacing, progress, sampling, cancellation, restart and definition changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusError } from '@meshgate/bus';
import { Subjects } from '@meshgate/contracts';
import { RichTool } from './fixtures/fixture-server';
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

/** False once the process is gone and reaped (the router has seen it exit). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
const alpha = uniqueName('alpha');
const beta = uniqueName('beta');

beforeAll(async () => {
  h = await startHarness();
  await h.put(stdioFixture(alpha));
  await h.put(stdioFixture(beta));
});
afterAll(async () => {
  await h?.close();
});

describe('per-server endpoint', () => {
  it("answers initialize with the upstream's own result and the negotiated version", async () => {
    const s = newSession({ kind: 'server', server: alpha });
    const init = resultOf(
      await h.call(s, 'initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 't', version: '1' },
      }),
    );
    expect(init['protocolVersion']).toBe('2025-06-18');
    expect(init['serverInfo']).toMatchObject({ name: 'fixture-a' });
    expect(init['instructions']).toBe('fixture a instructions');
    expect(init['capabilities']).toMatchObject({ resources: { subscribe: true } });
  });

  it('passes names and every tool field through unchanged', async () => {
    const s = newSession({ kind: 'server', server: alpha });
    const tools = resultOf(await h.call(s, 'tools/list'))['tools'] as Record<string, unknown>[];
    expect(tools.find((t) => t['name'] === 'rich')).toEqual(RichTool);
    const echo = resultOf(
      await h.call(s, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }, { id: 'agent-1' }),
    );
    expect(echo).toEqual({ content: [{ type: 'text', text: 'echo: hi' }] });
  });

  it('answers an agent of an older version in its own version: no field it cannot read, structured output as text', async () => {
    const s = { ...newSession({ kind: 'server', server: alpha }), protocolVersion: '2025-03-26' };
    const tools = resultOf(await h.call(s, 'tools/list'))['tools'] as Record<string, unknown>[];
    const { title: _t, outputSchema: _o, icons: _i, ...readable } = RichTool;
    expect(tools.find((t) => t['name'] === 'rich')).toEqual(readable);
    // The fixture's `rich` sends a text block beside its structured output: the agent keeps the text only.
    const rich = resultOf(await h.call(s, 'tools/call', { name: 'rich', arguments: { q: 'a' } }));
    expect(rich).toEqual({ content: [{ type: 'text', text: '7' }] });
    const links = resultOf(await h.call(s, 'tools/call', { name: 'links', arguments: {} }));
    expect(links['content']).toEqual([
      { type: 'text', text: 'Resource: greeting <fixture://greeting>' },
      { type: 'resource', resource: { uri: 'fixture://items/1', text: 'item 1' } },
    ]);
    const old = { ...s, protocolVersion: '2024-11-05' };
    const oldTools = resultOf(await h.call(old, 'tools/list'))['tools'] as Record<string, unknown>[];
    expect(oldTools.find((t) => t['name'] === 'rich')).not.toHaveProperty('annotations');
  });

  it('keeps the agent id in the reply', async () => {
    const s = newSession({ kind: 'server', server: alpha });
    const reply = await h.call(s, 'ping', undefined, { id: 'my-id-7' });
    expect(reply.message.id).toBe('my-id-7');
    expect(reply.router).toBe(h.router.instanceId);
  });

  it('refuses an unknown server with a 404 caller fault', async () => {
    const s = newSession({ kind: 'server', server: 'nope-nothing' });
    const err = await h.call(s, 'initialize', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe(404);
    expect((err as BusError).message).toMatch(/unknown server nope-nothing/);
  });
});

describe('federated endpoint', () => {
  const fed = () => newSession({ kind: 'federated' });

  it('answers initialize itself, naming the servers', async () => {
    const init = resultOf(await h.call(fed(), 'initialize', { protocolVersion: '2026-07-28' }));
    expect(init['protocolVersion']).toBe('2025-11-25');
    expect(init['serverInfo']).toMatchObject({ name: 'meshgate' });
    expect(init['capabilities']).toMatchObject({
      tools: { listChanged: true },
      resources: { subscribe: true },
      logging: {},
      completions: {},
    });
    expect(init['instructions']).toContain(`- ${alpha}`);
    expect(init['instructions']).toContain(`- ${beta}`);
    expect((init['capabilities'] as Record<string, unknown>)['tasks']).toMatchObject({
      list: {},
      cancel: {},
    });
  });

  it('merges the lists of every server with namespaced names', async () => {
    const s = fed();
    const tools = resultOf(await h.call(s, 'tools/list'))['tools'] as Record<string, unknown>[];
    const names = tools.map((t) => t['name']);
    expect(names).toContain(`${alpha}__echo`);
    expect(names).toContain(`${beta}__echo`);
    expect(tools.find((t) => t['name'] === `${alpha}__rich`)).toEqual({
      ...RichTool,
      name: `${alpha}__rich`,
    });
    const resources = resultOf(await h.call(s, 'resources/list'))['resources'] as Record<string, unknown>[];
    expect(resources.map((r) => r['uri'])).toContain(`${beta}+fixture://greeting`);
    const templates = resultOf(await h.call(s, 'resources/templates/list'))['resourceTemplates'] as Record<
      string,
      unknown
    >[];
    expect(templates.map((r) => r['uriTemplate'])).toContain(`${alpha}+fixture://items/{id}`);
    const prompts = resultOf(await h.call(s, 'prompts/list'))['prompts'] as Record<string, unknown>[];
    expect(prompts.map((p) => p['name'])).toEqual([`${alpha}__greet`, `${beta}__greet`]);
  });

  it('routes calls by namespace and namespaces resource URIs in results', async () => {
    const s = fed();
    const links = resultOf(await h.call(s, 'tools/call', { name: `${beta}__links` }));
    expect(links['content']).toEqual([
      { type: 'resource_link', uri: `${beta}+fixture://greeting`, name: 'greeting' },
      { type: 'resource', resource: { uri: `${beta}+fixture://items/1`, text: 'item 1' } },
    ]);
    const read = resultOf(await h.call(s, 'resources/read', { uri: `${alpha}+fixture://items/42` }));
    expect(read['contents']).toEqual([{ uri: `${alpha}+fixture://items/42`, text: 'item 42' }]);
    const prompt = resultOf(
      await h.call(s, 'prompts/get', { name: `${alpha}__greet`, arguments: { who: 'ann' } }),
    );
    expect(JSON.stringify(prompt)).toContain(`${alpha}+fixture://greeting`);
    const completion = resultOf(
      await h.call(s, 'completion/complete', {
        ref: { type: 'ref/prompt', name: `${alpha}__greet` },
        argument: { name: 'who', value: 'a' },
      }),
    );
    expect(completion['completion']).toMatchObject({ values: ['alice'] });
  });

  it('answers -32602 for unknown tools, -32002 for unknown resources, -32601 for other methods', async () => {
    const s = fed();
    expect(errorOf(await h.call(s, 'tools/call', { name: 'echo' })).code).toBe(-32602);
    expect(errorOf(await h.call(s, 'tools/call', { name: 'ghost__echo' })).code).toBe(-32602);
    expect(errorOf(await h.call(s, 'prompts/get', { name: 'ghost__greet' })).code).toBe(-32602);
    expect(errorOf(await h.call(s, 'resources/read', { uri: 'ghost+fixture://greeting' })).code).toBe(-32002);
    expect(errorOf(await h.call(s, 'unknown/method')).code).toBe(-32601);
    expect(errorOf(await h.call(s, 'tasks/get', { taskId: 'ghost__t1' })).code).toBe(-32602);
    expect(resultOf(await h.call(s, 'tasks/list'))).toEqual({ tasks: [] });
    expect(resultOf(await h.call(s, 'ping'))).toEqual({});
  });

  it('leaves out a dead upstream and reports it in _meta', async () => {
    const dead = uniqueName('dead');
    await h.put({ name: dead, transport: 'stdio', command: '/nonexistent/mcp-server' });
    const started = Date.now();
    const result = resultOf(await h.call(fed(), 'tools/list'));
    expect(Date.now() - started).toBeLessThan(3000);
    const names = (result['tools'] as Record<string, unknown>[]).map((t) => t['name']);
    expect(names).toContain(`${alpha}__echo`);
    const unavailable = (result['_meta'] as Record<string, unknown>)['io.meshgate/unavailable'] as {
      server: string;
      error: string;
    }[];
    expect(unavailable.map((u) => u.server)).toEqual([dead]);
    expect(unavailable[0]!.error).toMatch(/ENOENT/);
    await h.remove(dead);
  });
});

describe('relay', () => {
  it("relays progress with the agent's own token on the call's stream", async () => {
    const s = newSession({ kind: 'federated' });
    const stream = Subjects.ingressStream('ingress-test', `p${Date.now()}`);
    const seen = h.collect(stream);
    const result = resultOf(
      await h.call(
        s,
        'tools/call',
        { name: `${alpha}__slow`, arguments: { steps: 3, ms: 20 }, _meta: { progressToken: 'agent-token' } },
        { stream },
      ),
    );
    expect(result).toEqual({ content: [{ type: 'text', text: 'done after 3 steps' }] });
    await eventually(() => seen.messages.length >= 3);
    expect(seen.messages.map((m) => m['params'])).toEqual(
      [1, 2, 3].map((progress) => ({ progressToken: 'agent-token', progress, total: 3 })),
    );
  });

  it('relays sampling to the agent and its answer back upstream', async () => {
    const s = newSession({ kind: 'server', server: beta });
    const stream = Subjects.ingressStream('ingress-test', `s${Date.now()}`);
    const seen = h.collect(stream);
    const calling = h.call(s, 'tools/call', { name: 'sample', arguments: { prompt: 'hi' } }, { stream });
    const request = await eventually(() =>
      seen.messages.find((m) => m['method'] === 'sampling/createMessage'),
    );
    expect(request['id']).toMatch(new RegExp(`^mg:${h.router.instanceId}:\\d+$`));
    h.bus.publish(Subjects.routerToUpstream(h.router.instanceId), {
      v: 1,
      sessionId: s.id,
      message: {
        jsonrpc: '2.0',
        id: request['id'],
        result: { role: 'assistant', content: { type: 'text', text: 'forty-two' }, model: 'm' },
      },
    });
    expect(resultOf(await calling)).toEqual({ content: [{ type: 'text', text: 'sampled: forty-two' }] });
  });

  it('cancels an upstream call when the agent cancels it', async () => {
    const s = newSession({ kind: 'server', server: alpha });
    const calling = h.call(s, 'tools/call', { name: 'slow', arguments: { steps: 100, ms: 50 } }, { id: 99 });
    await new Promise((r) => setTimeout(r, 300));
    h.bus.publish(Subjects.sessionToUpstream(s.id), {
      v: 1,
      sessionId: s.id,
      message: {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 99, reason: 'user' },
      },
    });
    const err = errorOf(await calling);
    expect(err).toEqual({ code: -32800, message: 'request cancelled' });
  });

  it('restarts a crashed stdio child and the next call succeeds', async () => {
    const s = newSession({ kind: 'server', server: beta });
    const pid = Number(
      (resultOf(await h.call(s, 'tools/call', { name: 'pid' }))['content'] as { text: string }[])[0]!.text,
    );
    process.kill(pid, 'SIGKILL');
    await eventually(() => !isAlive(pid));
    const echo = resultOf(await h.call(s, 'tools/call', { name: 'echo', arguments: { text: 'again' } }));
    expect(echo).toEqual({ content: [{ type: 'text', text: 'echo: again' }] });
    const newPid = Number(
      (resultOf(await h.call(s, 'tools/call', { name: 'pid' }))['content'] as { text: string }[])[0]!.text,
    );
    expect(newPid).not.toBe(pid);
  });

  it('picks up a changed definition within one second and tells the sessions', async () => {
    const s = newSession({ kind: 'federated' });
    const before = (resultOf(await h.call(s, 'tools/list'))['tools'] as Record<string, unknown>[]).map(
      (t) => t['name'],
    );
    expect(before).not.toContain(`${alpha}__extra`);
    const notices = h.collect(Subjects.sessionToAgent(s.id));
    const changedAt = Date.now();
    await h.put(stdioFixture(alpha, 'b'));
    await eventually(
      () => notices.messages.some((m) => m['method'] === 'notifications/tools/list_changed'),
      1000,
    );
    const after = await eventually(async () => {
      const names = (resultOf(await h.call(s, 'tools/list'))['tools'] as Record<string, unknown>[]).map(
        (t) => t['name'],
      );
      return names.includes(`${alpha}__extra`) && names;
    }, 3000);
    expect(after).toContain(`${beta}__echo`);
    expect(Date.now() - changedAt).toBeLessThan(3000);
    expect(notices.messages.map((m) => m['method']).sort()).toEqual([
      'notifications/prompts/list_changed',
      'notifications/resources/list_changed',
      'notifications/tools/list_changed',
    ]);
  });
});

describe('logging on a shared connection', () => {
  it('keeps the upstream at the least severe level any session asked for', async () => {
    const verbose = newSession({ kind: 'server', server: beta });
    const quiet = newSession({ kind: 'server', server: beta });
    const federated = newSession({ kind: 'federated' });
    const upstreamLevel = async () =>
      (resultOf(await h.call(quiet, 'tools/call', { name: 'level' }))['content'] as { text: string }[])[0]!
        .text;
    resultOf(await h.call(verbose, 'logging/setLevel', { level: 'debug' }));
    expect(await upstreamLevel()).toBe('debug');
    resultOf(await h.call(quiet, 'logging/setLevel', { level: 'error' }));
    expect(await upstreamLevel()).toBe('debug');
    resultOf(await h.call(federated, 'logging/setLevel', { level: 'emergency' }));
    expect(await upstreamLevel()).toBe('debug');
  });
});
