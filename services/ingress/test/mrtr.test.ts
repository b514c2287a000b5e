/**
 * Multi round-trip requests for 2026-07-28 agents against session-era upstreams (the fake router stands for
 * them): an upstream's server-to-client request becomes `input_required` while the call is held; the retry,
 * on the holder or on another replica, relays the answers upstream and gets the final result or the next
 * round; unanswered requests are asked again; spent, replayed, tampered, foreign, expired and orphaned
 * states are refused with -32602 and hold nothing; an expired hold is cancelled upstream. The NATS is
 * spawned for this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, type ToUpstream } from '@meshgate/contracts';
import { MetaKeys } from '../src/modern-envelope';
import { argumentsDigest, signRequestState } from '../src/request-state';
import { SseReader, data } from './harness';
import { STATE_KEY, modernPost, modernRequest, startModernStack, type ModernStack } from './modern-harness';

let stack: ModernStack;

beforeAll(async () => {
  // Replica 2 holds calls for one second only.
  stack = await startModernStack([{}, {}, { INGRESS_MRTR_HOLD_MS: '1000' }]);
});

afterAll(async () => {
  await stack?.stop();
});

interface InputRequired {
  resultType: 'input_required';
  inputRequests?: Record<string, { method: string; params?: Record<string, unknown> }>;
  requestState: string;
}

async function result(res: Response): Promise<Record<string, unknown>> {
  const body = (await res.json()) as { result?: Record<string, unknown>; error?: unknown };
  if (!body.result) throw new Error(`no result: ${JSON.stringify(body)}`);
  return body.result;
}

const call = (id: number, name: string, extra: Record<string, unknown> = {}) =>
  modernRequest(id, 'tools/call', { name, arguments: { n: 1 }, ...extra });

describe('input_required', () => {
  it('turns an upstream sampling request into input requests, and the retry on another replica into the result', async () => {
    const first = (await result(
      await modernPost(stack.url(0), call(1, 'sample')),
    )) as unknown as InputRequired;
    expect(first.resultType).toBe('input_required');
    expect(first.inputRequests).toEqual({
      'sampling-1': { method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } },
    });
    const answer = { role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'm' };
    const retry = await modernPost(
      stack.url(1),
      call(2, 'sample', { inputResponses: { 'sampling-1': answer }, requestState: first.requestState }),
    );
    const final = (await retry.json()) as { id: number; result: Record<string, unknown> };
    expect(final.id).toBe(2);
    expect(final.result).toMatchObject({ resultType: 'complete' });
    const relayed = JSON.parse(
      (final.result['content'] as { text: string }[])[0]!.text,
    ) as ToUpstream['message'];
    expect(relayed).toMatchObject({ jsonrpc: '2.0', result: answer });
    expect(String(relayed['id'])).toMatch(/^mg:router-modern:/);
  });

  it('runs several rounds, each with a new requestState, and refuses a replay of a spent one', async () => {
    const r1 = (await result(await modernPost(stack.url(0), call(10, 'twice')))) as unknown as InputRequired;
    expect(Object.values(r1.inputRequests!).map((r) => r.method)).toEqual(['elicitation/create']);
    const [k1] = Object.keys(r1.inputRequests!);
    const elicited = { action: 'accept', content: { name: 'Ada' } };
    // The retry hears the held call's progress on its own token, and the logs at the level it asked for.
    const stream = await modernPost(
      stack.url(1),
      call(11, 'twice', {
        inputResponses: { [k1!]: elicited },
        requestState: r1.requestState,
        _meta: { progressToken: 'retry-token', [MetaKeys.logLevel]: 'info' },
      }),
    );
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const events = (await new SseReader(stream).rest()).map((e) => data(e));
    expect(events.slice(0, 2)).toMatchObject([
      { method: 'notifications/progress', params: { progressToken: 'retry-token', progress: 1 } },
      { method: 'notifications/message', params: { level: 'info', data: 'asked' } },
    ]);
    expect(events).toHaveLength(3);
    const r2 = (events[2] as { id: number; result: InputRequired }).result;
    expect(r2.resultType).toBe('input_required');
    expect(Object.values(r2.inputRequests!).map((r) => r.method)).toEqual(['sampling/createMessage']);
    expect(r2.requestState).not.toBe(r1.requestState);
    const replay = await modernPost(
      stack.url(0),
      call(12, 'twice', { inputResponses: { [k1!]: elicited }, requestState: r1.requestState }),
    );
    expect(await replay.json()).toMatchObject({
      id: 12,
      error: { code: ErrorCodes.InvalidParams, message: expect.stringContaining('already used') },
    });
    const [k2] = Object.keys(r2.inputRequests!);
    const sampled = { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' };
    const done = await result(
      await modernPost(
        stack.url(0),
        call(13, 'twice', { inputResponses: { [k2!]: sampled }, requestState: r2.requestState }),
      ),
    );
    expect(done['resultType']).toBe('complete');
    const [form, sample] = JSON.parse((done['content'] as { text: string }[])[0]!.text) as {
      result: unknown;
    }[];
    expect([form!.result, sample!.result]).toEqual([elicited, sampled]);
    // Completed: the last state is spent too, on every replica.
    const late = await modernPost(
      stack.url(1),
      call(14, 'twice', { inputResponses: { [k2!]: sampled }, requestState: r2.requestState }),
    );
    expect(await late.json()).toMatchObject({ error: { code: ErrorCodes.InvalidParams } });
  });

  it('asks again for what the agent left unanswered, ignoring unknown keys', async () => {
    const r1 = (await result(await modernPost(stack.url(0), call(20, 'pair')))) as unknown as InputRequired;
    const keys = Object.keys(r1.inputRequests!);
    expect(keys).toHaveLength(2);
    const roots = { roots: [{ uri: 'file:///work' }] };
    const r2 = (await result(
      await modernPost(
        stack.url(1),
        call(21, 'pair', {
          inputResponses: { [keys[0]!]: roots, bogus: { x: 1 } },
          requestState: r1.requestState,
        }),
      ),
    )) as unknown as InputRequired;
    expect(Object.keys(r2.inputRequests!)).toEqual([keys[1]]);
    const done = await result(
      await modernPost(
        stack.url(0),
        call(22, 'pair', { inputResponses: { [keys[1]!]: roots }, requestState: r2.requestState }),
      ),
    );
    expect(done['resultType']).toBe('complete');
  });

  it('refuses a malformed answer without spending the state', async () => {
    const r1 = (await result(await modernPost(stack.url(0), call(30, 'sample')))) as unknown as InputRequired;
    const bad = await modernPost(
      stack.url(0),
      call(31, 'sample', {
        inputResponses: { 'sampling-1': { role: 'robot' } },
        requestState: r1.requestState,
      }),
    );
    expect(await bad.json()).toMatchObject({ id: 31, error: { code: ErrorCodes.InvalidParams } });
    const good = await modernPost(
      stack.url(0),
      call(32, 'sample', {
        inputResponses: {
          'sampling-1': { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' },
        },
        requestState: r1.requestState,
      }),
    );
    expect(await good.json()).toMatchObject({ id: 32, result: { resultType: 'complete' } });
  });

  it('binds the state to the request: other arguments or another tool are refused', async () => {
    const r1 = (await result(await modernPost(stack.url(0), call(40, 'sample')))) as unknown as InputRequired;
    const other = modernRequest(41, 'tools/call', {
      name: 'sample',
      arguments: { n: 2 },
      requestState: r1.requestState,
    });
    expect(await (await modernPost(stack.url(0), other)).json()).toMatchObject({
      error: { code: ErrorCodes.InvalidParams, message: expect.stringContaining('another request') },
    });
  });

  it('refuses expired, tampered and orphaned states', async () => {
    const binding = {
      t: 'default',
      p: 'anonymous',
      m: 'tools/call',
      n: 'sample',
      d: argumentsDigest({ arguments: { n: 1 } }),
    };
    const expired = signRequestState(STATE_KEY, {
      k: 'hold',
      i: stack.ingress[0]!.instanceId,
      h: 'holdholdhold',
      r: 0,
      ...binding,
      e: Date.now() - 1,
    });
    const orphan = signRequestState(STATE_KEY, {
      k: 'hold',
      i: 'ingress-gone',
      h: 'holdholdhold',
      r: 0,
      ...binding,
      e: Date.now() + 60_000,
    });
    const unknownHold = signRequestState(STATE_KEY, {
      k: 'hold',
      i: stack.ingress[1]!.instanceId,
      h: 'nosuchhold',
      r: 0,
      ...binding,
      e: Date.now() + 60_000,
    });
    const tampered = `${orphan.slice(0, -4)}AAAA`;
    for (const [state, reason] of [
      [expired, 'expired'],
      [tampered, 'not issued by this gateway'],
      [orphan, 'replica holding its request is gone'],
      [unknownHold, 'no longer held'],
    ] as const) {
      const res = await modernPost(stack.url(0), call(50, 'sample', { requestState: state }));
      expect(await res.json()).toMatchObject({
        id: 50,
        error: { code: ErrorCodes.InvalidParams, message: expect.stringContaining(reason) },
      });
    }
  });

  it('cancels a hold whose agent does not come back in time, and refuses its retry', async () => {
    const r1 = (await result(await modernPost(stack.url(2), call(60, 'sample')))) as unknown as InputRequired;
    const sent = stack.router.calls.filter((c) => c.message.method === 'tools/call').at(-1)!;
    const texts = () => stack.router.toUpstream.map((u) => JSON.stringify(u.payload.message));
    await stack.router.until(
      () => texts().some((t) => t.includes('notifications/cancelled') && t.includes(String(sent.message.id))),
      5000,
    );
    // The upstream's request was answered (with an error) rather than left waiting.
    expect(texts().some((t) => t.includes('"error"') && t.includes('did not answer in time'))).toBe(true);
    const late = await modernPost(stack.url(0), call(61, 'sample', { requestState: r1.requestState }));
    expect(await late.json()).toMatchObject({ error: { code: ErrorCodes.InvalidParams } });
  });
});
