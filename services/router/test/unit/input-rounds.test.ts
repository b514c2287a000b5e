/**
 * The input rounds a session-era agent's call to a modern upstream goes through (input-rounds,
 * modern-answers), and the asks they put to the agent (input-asks): one request per embedded input, the
 * retry with keyed inputResponses and the echoed requestState, the bound on rounds, the agent's refusals
 * and missing capabilities as clear errors, hostile input_required results, cancellation and deadlines.
 */
import { describe, expect, it } from 'vitest';
import type { JsonRpcRequest } from '@meshgate/contracts';
import { InputAsks } from '../../src/upstream/input-asks';
import { MaxInputRounds, inputRounds, type InputRoundDeps } from '../../src/upstream/input-rounds';
import { modernAnswer } from '../../src/upstream/modern-answers';
import type { CallOrigin, Outcome } from '../../src/upstream/relay-table';

const elicit = {
  method: 'elicitation/create',
  params: { message: 'Sure?', requestedSchema: { type: 'object', properties: {} } },
};
const sample = {
  method: 'sampling/createMessage',
  params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 },
};
const inputRequired = (inputRequests: Record<string, unknown>, requestState?: string) => ({
  resultType: 'input_required',
  inputRequests,
  ...(requestState !== undefined ? { requestState } : {}),
});

/** Deps whose agent answers every ask with `answer` and whose upstream answers retries with `upstream`. */
function scripted(
  answer: (method: string) => Outcome,
  upstream: (params: Record<string, unknown>) => Outcome,
) {
  const asked: { method: string; params: Record<string, unknown> }[] = [];
  const retried: Record<string, unknown>[] = [];
  const deps: InputRoundDeps = {
    retry: (params) => {
      retried.push(params);
      return Promise.resolve(upstream(params));
    },
    ask: (method, params) => {
      asked.push({ method, params });
      return Promise.resolve(answer(method));
    },
    cannot: () => null,
    elicitationId: () => 'eid-1',
  };
  return { deps, asked, retried };
}

const soon = () => Date.now() + 5000;

describe('input rounds', () => {
  it('asks every embedded input, then retries with the keyed answers and the echoed state', async () => {
    const { deps, asked, retried } = scripted(
      (method) =>
        method === 'elicitation/create'
          ? { result: { action: 'accept', content: { ok: true } } }
          : { result: { role: 'assistant', content: { type: 'text', text: 'x' }, model: 'm' } },
      () => ({ result: { content: [{ type: 'text', text: 'done' }], resultType: 'complete' } }),
    );
    const params = { name: 'tool', arguments: { a: 1 } };
    const out = await inputRounds(
      'tools/call',
      params,
      inputRequired({ e: elicit, s: sample }, 'st-1'),
      deps,
      soon(),
    );
    expect(out).toEqual({ result: { content: [{ type: 'text', text: 'done' }], resultType: 'complete' } });
    expect(asked.map((a) => a.method)).toEqual(['elicitation/create', 'sampling/createMessage']);
    expect(retried).toEqual([
      {
        name: 'tool',
        arguments: { a: 1 },
        inputResponses: {
          e: { action: 'accept', content: { ok: true } },
          s: { role: 'assistant', content: { type: 'text', text: 'x' }, model: 'm' },
        },
        requestState: 'st-1',
      },
    ]);
  });

  it('gives a URL elicitation the elicitationId a 2025-11-25 agent needs', async () => {
    const url = {
      method: 'elicitation/create',
      params: { mode: 'url', message: 'Log in', url: 'https://x.test' },
    };
    const { deps, asked } = scripted(
      () => ({ result: { action: 'accept' } }),
      () => ({ result: { content: [] } }),
    );
    await inputRounds('tools/call', {}, inputRequired({ u: url }), deps, soon());
    expect(asked[0]!.params).toEqual({
      mode: 'url',
      message: 'Log in',
      url: 'https://x.test',
      elicitationId: 'eid-1',
    });
  });

  it(`stops an upstream that keeps asking after ${MaxInputRounds} rounds`, async () => {
    const { deps, retried } = scripted(
      () => ({ result: { action: 'accept' } }),
      () => ({ result: inputRequired({ e: elicit }) }),
    );
    const out = await inputRounds('tools/call', {}, inputRequired({ e: elicit }), deps, soon());
    expect(out).toMatchObject({ error: { code: -32603, message: /after 8 rounds/ } });
    expect(retried).toHaveLength(MaxInputRounds);
  });

  it("ends the call with the agent's own error, without retrying", async () => {
    const { deps, retried } = scripted(
      () => ({ error: { code: -1, message: 'User rejected sampling' } }),
      () => ({ result: { content: [] } }),
    );
    const out = await inputRounds('prompts/get', {}, inputRequired({ s: sample }), deps, soon());
    expect(out).toEqual({ error: { code: -1, message: 'User rejected sampling' } });
    expect(retried).toEqual([]);
  });

  it('refuses at once, naming it, input the agent has no capability for', async () => {
    const { deps, asked } = scripted(
      () => ({ result: {} }),
      () => ({ result: {} }),
    );
    deps.cannot = (request) =>
      request.method === 'sampling/createMessage'
        ? 'the client did not declare the sampling capability'
        : null;
    const out = await inputRounds('tools/call', {}, inputRequired({ e: elicit, s: sample }), deps, soon());
    expect(out).toEqual({
      error: {
        code: -32602,
        message:
          'tools/call needs sampling/createMessage from the client, but the client did not declare the sampling capability',
      },
    });
    expect(asked).toEqual([]);
  });

  it('refuses malformed input_required results and too many inputs', async () => {
    const { deps, asked } = scripted(
      () => ({ result: {} }),
      () => ({ result: {} }),
    );
    const bogus = await inputRounds(
      'tools/call',
      {},
      inputRequired({ x: { method: 'tools/call' } }),
      deps,
      soon(),
    );
    expect(bogus).toMatchObject({ error: { code: -32603, message: /invalid input_required/ } });
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, elicit]));
    expect(await inputRounds('tools/call', {}, inputRequired(many), deps, soon())).toMatchObject({
      error: { code: -32603, message: /more than 16 inputs/ },
    });
    expect(asked).toEqual([]);
  });

  it('keeps a hostile key such as __proto__ a plain key of the answers', async () => {
    const { deps, retried } = scripted(
      () => ({ result: { roots: [] } }),
      () => ({ result: { content: [] } }),
    );
    const first = JSON.parse(
      '{"resultType":"input_required","inputRequests":{"__proto__":{"method":"roots/list"}}}',
    ) as Record<string, unknown>;
    expect(await inputRounds('tools/call', {}, first, deps, soon())).toEqual({ result: { content: [] } });
    expect(JSON.stringify(retried[0])).toBe('{"inputResponses":{"__proto__":{"roots":[]}}}');
  });

  it('retries with the state alone when the upstream asked for no input', async () => {
    const { deps, retried } = scripted(
      () => ({ result: {} }),
      () => ({ result: { contents: [] } }),
    );
    const out = await inputRounds(
      'resources/read',
      { uri: 'a://b' },
      inputRequired({}, 'later'),
      deps,
      soon(),
    );
    expect(out).toEqual({ result: { contents: [] } });
    expect(retried).toEqual([{ uri: 'a://b', inputResponses: {}, requestState: 'later' }]);
  });
});

describe('answers of a modern upstream in the agent era', () => {
  const deps = scripted(
    () => ({ result: { action: 'accept' } }),
    () => ({
      result: { content: [], resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': {} } },
    }),
  ).deps;
  const first: Outcome = { result: inputRequired({ e: elicit }, 's') };

  it('hands a 2026-07-28 agent input_required untouched', async () => {
    const agent = { protocolVersion: '2026-07-28', clientCapabilities: {} };
    expect(await modernAnswer('tools/call', {}, first, agent, deps, soon())).toBe(first);
  });

  it('runs the rounds for a session-era agent and strips the stateless-only fields', async () => {
    const agent = { protocolVersion: '2025-06-18', clientCapabilities: { elicitation: {} } };
    expect(await modernAnswer('tools/call', {}, first, agent, deps, soon())).toEqual({
      result: { content: [] },
    });
  });

  it('refuses input asked for on a method that cannot take any', async () => {
    const agent = { protocolVersion: '2025-11-25', clientCapabilities: { elicitation: {} } };
    expect(await modernAnswer('tools/list', {}, first, agent, deps, soon())).toMatchObject({
      error: { code: -32603, message: /cannot take any/ },
    });
  });
});

describe('input asks', () => {
  const origin: CallOrigin = { sessionId: 's1', agentId: 7, stream: undefined, traceId: 't' };

  function asks() {
    const sent: JsonRpcRequest[] = [];
    const withdrawn: string[] = [];
    const box = new InputAsks({
      send: (request) => sent.push(request),
      withdraw: (id, reason) => withdrawn.push(`${id}: ${reason}`),
    });
    return { box, sent, withdrawn };
  }

  it("settles an ask with the agent's answer under its own string id, and ignores other ids", async () => {
    const { box, sent } = asks();
    const asking = box.ask('roots/list', {}, origin, 5000);
    expect(sent[0]).toMatchObject({ jsonrpc: '2.0', id: 'mg-input-1', method: 'roots/list' });
    expect(box.answer(1, { result: {} })).toBe(false);
    expect(box.answer('mg-input-1', { result: { roots: [] } })).toBe(true);
    expect(await asking).toEqual({ result: { roots: [] } });
    expect(box.answer('mg-input-1', { result: {} })).toBe(false);
  });

  it('asks nothing once the call has no time left', async () => {
    const { box, sent } = asks();
    expect(await box.ask('roots/list', {}, origin, 0)).toMatchObject({ error: { code: -32003 } });
    expect(sent).toEqual([]);
  });

  it('withdraws an ask that times out, is cancelled with its call, or outlives its session', async () => {
    const { box, withdrawn } = asks();
    const late = box.ask('roots/list', {}, origin, 10);
    expect(await late).toMatchObject({ error: { code: -32003 } });
    const cancelled = box.ask('roots/list', {}, origin, 5000);
    expect(box.cancelCall('s1', 8)).toBe(false);
    expect(box.cancelCall('s1', 7)).toBe(true);
    expect(await cancelled).toEqual({ error: { code: -32800, message: 'request cancelled' } });
    const orphaned = box.ask('roots/list', {}, origin, 5000);
    box.dropSession('s1');
    expect(await orphaned).toMatchObject({ error: { message: 'the client session ended' } });
    expect(withdrawn).toHaveLength(3);
  });
});
