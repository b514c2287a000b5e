// Parsing a POST body into one JSON-RPC message, or into the HTTP status and error the agent receives.
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@meshgate/contracts';
import { InitializeParams, parseBody } from '../src/message-parse';

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
