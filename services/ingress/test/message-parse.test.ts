// Parsing a POST body into one JSON-RPC message or a batch, or into the HTTP status and error the agent receives.
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@meshgate/contracts';
import { InitializeParams, parseBatch, parseBody, parsePost } from '../src/message-parse';

describe('parseBody', () => {
  it('classifies requests, notifications and responses', () => {
    const r = parseBody(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/list"}'));
    expect(r.ok && r.message.kind).toBe('request');
    const n = parseBody('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    expect(n.ok && n.message.kind).toBe('notification');
    const s = parseBody('{"jsonrpc":"2.0","id":"mg:r1:1","result":{}}');
    expect(s.ok && s.message.kind).toBe('response');
  });
  it('answers invalid JSON with -32700 and a null id', () => {
    for (const body of ['{', '', undefined, '{"jsonrpc":"2.0",}']) {
      const r = parseBody(body);
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect([r.status, r.error.error.code, r.error.id]).toEqual([400, ErrorCodes.ParseError, null]);
    }
  });
  it('answers invalid messages and batches with -32600, keeping a readable id', () => {
    const cases: [string, string | number | null][] = [
      ['{"jsonrpc":"1.0","id":7,"method":"x"}', 7],
      ['{"jsonrpc":"2.0","id":{"a":1},"method":"x"}', null],
      ['{"jsonrpc":"2.0","id":"q"}', 'q'],
      ['"just a string"', null],
      ['[{"jsonrpc":"2.0","id":1,"method":"ping"}]', null],
    ];
    for (const [body, id] of cases) {
      const r = parseBody(body);
      expect(r.ok, body).toBe(false);
      if (!r.ok)
        expect([r.status, r.error.error.code, r.error.id], body).toEqual([
          400,
          ErrorCodes.InvalidRequest,
          id,
        ]);
    }
  });
  it('hands a JSON array on as a batch, unchecked, where batches may come', () => {
    expect(parsePost('{"jsonrpc":"2.0","method":"notifications/initialized"}')).toMatchObject({
      ok: true,
      message: { kind: 'notification' },
    });
    expect(parsePost('[{"jsonrpc":"2.0","id":1,"method":"ping"}, 7]')).toEqual({
      ok: true,
      batch: [{ jsonrpc: '2.0', id: 1, method: 'ping' }, 7],
    });
  });
  it('survives deeply nested input', () => {
    const deep = `{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`;
    expect(parseBody(deep).ok).toBe(true);
  });
});

describe('InitializeParams', () => {
  it('needs a protocol version and defaults capabilities', () => {
    expect(InitializeParams.safeParse({}).success).toBe(false);
    const p = InitializeParams.parse({ protocolVersion: '2025-11-25', extra: 1 });
    expect(p.capabilities).toEqual({});
    expect(p['extra']).toBe(1);
  });
});

describe('parseBatch', () => {
  const req = (id: number | string, method = 'tools/list') => ({ jsonrpc: '2.0', id, method });
  const note = {
    jsonrpc: '2.0',
    method: 'notifications/progress',
    params: { progressToken: 1, progress: 1 },
  };
  const refusal = (entries: unknown[], max = 10) => {
    const r = parseBatch(entries, max);
    if (r.ok) throw new Error('accepted');
    return { status: r.status, body: r.body };
  };

  it('accepts requests, notifications and answers to gateway requests, in order', () => {
    const answer = { jsonrpc: '2.0', id: 'mg:r1:4', result: {} };
    const r = parseBatch([req(1), note, answer, req('b', 'ping')], 10);
    expect(r.ok && r.messages.map((m) => m.kind)).toEqual(['request', 'notification', 'response', 'request']);
  });
  it('refuses an empty and an oversized batch with one -32600 error', () => {
    expect(refusal([])).toEqual({
      status: 400,
      body: {
        jsonrpc: '2.0',
        id: null,
        error: { code: ErrorCodes.InvalidRequest, message: 'Invalid Request: empty batch' },
      },
    });
    const big = refusal(
      Array.from({ length: 1000 }, (_, i) => req(i)),
      100,
    );
    expect(big.status).toBe(400);
    expect(big.body).toMatchObject({
      id: null,
      error: {
        code: ErrorCodes.InvalidRequest,
        message: expect.stringContaining('at most 100 messages, this one 1000'),
      },
    });
  });
  it('answers every invalid entry with its own error, keeping readable ids', () => {
    const r = refusal([req(1), { jsonrpc: '1.0', id: 2, method: 'x' }, 'nonsense', req(3)]);
    expect(r.status).toBe(400);
    expect(r.body).toEqual([
      expect.objectContaining({ id: 2, error: expect.objectContaining({ code: ErrorCodes.InvalidRequest }) }),
      expect.objectContaining({
        id: null,
        error: expect.objectContaining({ code: ErrorCodes.InvalidRequest }),
      }),
    ]);
  });
  it('refuses initialize, a repeated id and an answer to a request the gateway never sent', () => {
    const init = { jsonrpc: '2.0', id: 9, method: 'initialize', params: { protocolVersion: '2025-03-26' } };
    expect(refusal([req(1), init]).body).toMatchObject({
      id: 9,
      error: { message: expect.stringContaining('initialize must not be part') },
    });
    expect(refusal([req(1), req(2), req(1)]).body).toMatchObject({
      id: 1,
      error: { message: expect.stringContaining('twice') },
    });
    // The same value as a number and as a string are two ids.
    expect(parseBatch([req(1), req('1')], 10).ok).toBe(true);
    expect(refusal([{ jsonrpc: '2.0', id: 4, result: {} }]).body).toMatchObject({
      id: null,
      error: { message: expect.stringContaining('did not send') },
    });
  });
});
