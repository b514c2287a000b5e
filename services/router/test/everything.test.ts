/**
 * The router against the reference server-everything on stdio: a real third-party upstream whose tools,
 * progress and sampling go through the relay unchanged.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects } from '@meshgate/contracts';
import { eventually, newSession, resultOf, startHarness, uniqueName, type Harness } from './harness';

const bin = fileURLToPath(new URL('../../../node_modules/.bin/mcp-server-everything', import.meta.url));
let h: Harness;
const everything = uniqueName('everything');

beforeAll(async () => {
  h = await startHarness();
  await h.put({ name: everything, transport: 'stdio', command: bin, args: ['stdio'] });
});
afterAll(async () => {
  await h?.close();
});

describe('server-everything over stdio', () => {
  it('lists its tools namespaced on the federated endpoint and echoes', async () => {
    const s = newSession({ kind: 'federated' });
    const names = (resultOf(await h.call(s, 'tools/list'))['tools'] as Record<string, unknown>[]).map(
      (t) => t['name'],
    );
    expect(names).toContain(`${everything}__echo`);
    expect(names).toContain(`${everything}__trigger-sampling-request`);
    const echo = resultOf(
      await h.call(s, 'tools/call', { name: `${everything}__echo`, arguments: { message: 'hello' } }),
    );
    expect(JSON.stringify(echo['content'])).toContain('hello');
  });

  it("relays the long-running operation's progress with the agent's token", async () => {
    const s = newSession({ kind: 'server', server: everything });
    const stream = Subjects.ingressStream('ingress-test', `e${Date.now()}`);
    const seen = h.collect(stream);
    const params = {
      name: 'trigger-long-running-operation',
      arguments: { duration: 0.3, steps: 3 },
      _meta: { progressToken: 'tok-1' },
    };
    resultOf(await h.call(s, 'tools/call', params, { stream }));
    await eventually(() => seen.messages.length >= 3);
    expect(seen.messages.map((m) => m['params'])).toEqual(
      [1, 2, 3].map((progress) => ({ progress, total: 3, progressToken: 'tok-1' })),
    );
  });

  it('round-trips a sampling request through the agent', async () => {
    const s = newSession({ kind: 'server', server: everything });
    const stream = Subjects.ingressStream('ingress-test', `x${Date.now()}`);
    const seen = h.collect(stream);
    const calling = h.call(
      s,
      'tools/call',
      { name: 'trigger-sampling-request', arguments: { prompt: 'ping?', maxTokens: 5 } },
      { stream },
    );
    const request = await eventually(() =>
      seen.messages.find((m) => m['method'] === 'sampling/createMessage'),
    );
    h.bus.publish(Subjects.routerToUpstream(h.router.instanceId), {
      v: 1,
      sessionId: s.id,
      message: {
        jsonrpc: '2.0',
        id: request['id'],
        result: { role: 'assistant', content: { type: 'text', text: 'pong!' }, model: 'test' },
      },
    });
    expect(JSON.stringify(resultOf(await calling))).toContain('pong!');
  });
});
