import { describe, expect, it } from 'vitest';
import { classify, errorResponse } from '../src/jsonrpc';
import { gatewayRequestId, parseGatewayRequestId } from '../src/router';

describe('classify', () => {
  it('recognises requests, notifications and responses and keeps unknown fields', () => {
    const req = classify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'x', extra: { deep: 1 } },
    });
    expect(req).toEqual({
      kind: 'request',
      message: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', extra: { deep: 1 } } },
    });
    expect(classify({ jsonrpc: '2.0', method: 'notifications/initialized' }).kind).toBe('notification');
    expect(classify({ jsonrpc: '2.0', id: 'a', result: {} }).kind).toBe('response');
    expect(classify({ jsonrpc: '2.0', id: 'a', error: { code: -1, message: 'x' } }).kind).toBe('response');
  });

  it.each([
    [null, null],
    [[], null],
    [{ jsonrpc: '1.0', id: 3, method: 'x' }, 3],
    [{ jsonrpc: '2.0', id: 4, method: '' }, 4],
    [{ jsonrpc: '2.0', id: { no: 1 }, method: 'x' }, null],
    [{ jsonrpc: '2.0', id: 5, method: 'x', params: [1, 2] }, 5],
    [{ jsonrpc: '2.0', id: 6 }, 6],
  ])('rejects %j keeping id %j', (value, id) => {
    const c = classify(value);
    expect(c.kind).toBe('invalid');
    if (c.kind === 'invalid') {
      expect(c.id).toBe(id);
      expect(c.reason.length).toBeGreaterThan(0);
    }
  });

  it('builds error responses with and without data', () => {
    expect(errorResponse(1, -32601, 'no')).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32601, message: 'no' },
    });
    expect(errorResponse(null, -32700, 'p', { at: 3 }).error.data).toEqual({ at: 3 });
  });
});

describe('gateway request ids', () => {
  it('round-trips and rejects foreign ids', () => {
    expect(parseGatewayRequestId(gatewayRequestId('router-1a', 42))).toEqual({
      instance: 'router-1a',
      n: 42,
    });
    expect(parseGatewayRequestId(7)).toBeNull();
    expect(parseGatewayRequestId('mg:a.b:1')).toBeNull();
    expect(parseGatewayRequestId('mg:x:1:2')).toBeNull();
  });
});

describe('router replica ids in replies and session records', () => {
  it('must be subject tokens', async () => {
    const { RouterReply } = await import('../src/router');
    const message = { jsonrpc: '2.0', id: 1, result: {} };
    expect(RouterReply.safeParse({ v: 1, router: 'router-1a', message }).success).toBe(true);
    expect(RouterReply.safeParse({ v: 1, router: 'a.>', message }).success).toBe(false);
  });
});
