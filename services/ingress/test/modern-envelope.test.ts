// The era of a POSTed message and the checks of a 2026-07-28 request, with the codes and HTTP statuses
// the spec (and SDK v2's server) gives each refusal.
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@meshgate/contracts';
import {
  MetaKeys,
  ModernErrorCodes,
  checkModernParams,
  checkModernRequest,
  decodeHeaderValue,
  routeEra,
  type ModernHeaders,
  type Routed,
} from '../src/modern-envelope';

const MODERN = '2026-07-28';
const envelope = (version = MODERN, caps: unknown = {}) => ({
  [MetaKeys.protocolVersion]: version,
  [MetaKeys.clientCapabilities]: caps,
});
const headers = (h: Partial<ModernHeaders> = {}): ModernHeaders => ({
  protocolVersion: undefined,
  method: undefined,
  name: undefined,
  ...h,
});
const req = (method: string, params?: Record<string, unknown>): Routed => ({
  kind: 'request',
  id: 7,
  method,
  params,
});

describe('routeEra', () => {
  it('leaves session-era traffic alone: no claim and no modern header', () => {
    expect(routeEra(headers(), req('tools/list'))).toEqual({ era: 'legacy' });
    expect(routeEra(headers({ protocolVersion: '2025-11-25' }), req('tools/list'))).toEqual({
      era: 'legacy',
    });
    expect(routeEra(headers(), req('initialize', { protocolVersion: '2025-11-25' }))).toEqual({
      era: 'legacy',
    });
    expect(
      routeEra(headers({ protocolVersion: MODERN }), {
        kind: 'response',
        id: 1,
        method: undefined,
        params: undefined,
      }),
    ).toEqual({ era: 'legacy' });
    // A garbage header is not a modern one: the session path refuses it as it always did.
    expect(routeEra(headers({ protocolVersion: 'zzz' }), req('tools/list'))).toEqual({ era: 'legacy' });
  });

  it('routes a request with a valid envelope to the stateless era', () => {
    const r = routeEra(
      headers({ protocolVersion: MODERN, method: 'tools/list' }),
      req('tools/list', { _meta: envelope() }),
    );
    expect(r).toMatchObject({ era: 'modern', version: MODERN });
    expect(r.era === 'modern' && r.envelope?.[MetaKeys.clientCapabilities]).toEqual({});
  });

  it('refuses a malformed or incomplete envelope with -32602 and HTTP 400', () => {
    const missingCaps = routeEra(
      headers({ protocolVersion: MODERN }),
      req('tools/list', { _meta: { [MetaKeys.protocolVersion]: MODERN } }),
    );
    expect(missingCaps).toMatchObject({ era: 'reject', status: 400 });
    expect(missingCaps.era === 'reject' && missingCaps.error.error).toMatchObject({
      code: ErrorCodes.InvalidParams,
      data: { envelope: { key: MetaKeys.clientCapabilities, problem: 'missing' } },
    });
    const badCaps = routeEra(headers(), req('tools/list', { _meta: envelope(MODERN, { sampling: 'yes' }) }));
    expect(badCaps.era === 'reject' && badCaps.error.error.code).toBe(ErrorCodes.InvalidParams);
    const noClaim = routeEra(headers({ protocolVersion: MODERN }), req('tools/list', {}));
    expect(noClaim.era === 'reject' && [noClaim.status, noClaim.error.error.code]).toEqual([
      400,
      ErrorCodes.InvalidParams,
    ]);
  });

  it('refuses a header that disagrees with the body with -32020 (HTTP 400)', () => {
    const version = routeEra(
      headers({ protocolVersion: '2025-11-25' }),
      req('tools/list', { _meta: envelope() }),
    );
    expect(version.era === 'reject' && [version.status, version.error.error.code]).toEqual([
      400,
      ModernErrorCodes.HeaderMismatch,
    ]);
    const method = routeEra(
      headers({ protocolVersion: MODERN, method: 'tools/call' }),
      req('tools/list', { _meta: envelope() }),
    );
    expect(method.era === 'reject' && method.error.error.code).toBe(ModernErrorCodes.HeaderMismatch);
    const init = routeEra(
      headers({ protocolVersion: MODERN }),
      req('initialize', { protocolVersion: MODERN }),
    );
    expect(init.era === 'reject' && init.error.error.code).toBe(ModernErrorCodes.HeaderMismatch);
  });

  it('routes an initialize carrying a valid modern envelope to the stateless era (where it is unknown)', () => {
    const r = routeEra(headers({ protocolVersion: MODERN }), req('initialize', { _meta: envelope() }));
    expect(r).toMatchObject({ era: 'modern' });
  });

  it('routes a modern notification to the stateless era', () => {
    const n: Routed = { kind: 'notification', id: null, method: 'notifications/cancelled', params: {} };
    expect(routeEra(headers({ protocolVersion: MODERN }), n)).toMatchObject({ era: 'modern' });
    expect(routeEra(headers(), n)).toEqual({ era: 'legacy' });
  });
});

describe('checkModernRequest', () => {
  const ok = headers({ protocolVersion: MODERN, method: 'tools/call', name: 'echo' });

  it('accepts a served version with matching headers', () => {
    expect(checkModernRequest(ok, MODERN, 1, 'tools/call', { name: 'echo' })).toEqual({
      ok: true,
      method: 'tools/call',
    });
  });

  it('answers an unknown version with -32022, HTTP 400 and the supported versions', () => {
    const r = checkModernRequest(ok, '2031-01-01', 1, 'tools/call', { name: 'echo' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(400);
      expect(r.error.error).toMatchObject({
        code: ModernErrorCodes.UnsupportedProtocolVersion,
        data: { requested: '2031-01-01' },
      });
      expect((r.error.error.data as { supported: string[] }).supported).toContain(MODERN);
    }
  });

  it('requires each standard header, with -32020', () => {
    for (const h of [
      headers({ method: 'tools/call', name: 'echo' }),
      headers({ protocolVersion: MODERN, name: 'echo' }),
      headers({ protocolVersion: MODERN, method: 'tools/call' }),
      headers({ protocolVersion: MODERN, method: 'tools/call', name: 'other' }),
      headers({ protocolVersion: MODERN, method: 'tools/call', name: '=?base64?***?=' }),
    ]) {
      const r = checkModernRequest(h, MODERN, 1, 'tools/call', { name: 'echo' });
      expect(!r.ok && [r.status, r.error.error.code]).toEqual([400, ModernErrorCodes.HeaderMismatch]);
    }
  });

  it('compares Mcp-Name after decoding the Base64 sentinel, and mirrors params.uri for resources/read', () => {
    const uri = 'fixture://items/grüße';
    const encoded = `=?base64?${Buffer.from(uri).toString('base64')}?=`;
    const h = headers({ protocolVersion: MODERN, method: 'resources/read', name: encoded });
    expect(checkModernRequest(h, MODERN, 1, 'resources/read', { uri }).ok).toBe(true);
  });

  it('answers a method the era does not have with -32601 and HTTP 404', () => {
    for (const method of ['ping', 'initialize', 'logging/setLevel', 'resources/subscribe', 'tasks/get']) {
      const r = checkModernRequest(headers({ protocolVersion: MODERN, method }), MODERN, 1, method, {});
      expect(!r.ok && [r.status, r.error.error.code]).toEqual([404, ErrorCodes.MethodNotFound]);
    }
  });
});

describe('decodeHeaderValue', () => {
  it('passes plain values, decodes the sentinel, refuses a malformed one', () => {
    expect(decodeHeaderValue('echo')).toBe('echo');
    expect(decodeHeaderValue(`=?base64?${Buffer.from('Hello, 世界').toString('base64')}?=`)).toBe(
      'Hello, 世界',
    );
    expect(decodeHeaderValue('=?base64?not base64?=')).toBeUndefined();
    expect(decodeHeaderValue(`=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`)).toBeUndefined();
  });
});

describe('checkModernParams', () => {
  it('validates the params of each method, in-band', () => {
    expect(checkModernParams(1, 'tools/call', { name: 'echo', arguments: { a: 1 } })).toBeNull();
    expect(checkModernParams(1, 'tools/call', { arguments: {} })?.error.code).toBe(ErrorCodes.InvalidParams);
    expect(checkModernParams(1, 'resources/read', {})?.error.code).toBe(ErrorCodes.InvalidParams);
    expect(
      checkModernParams(1, 'subscriptions/listen', { notifications: { toolsListChanged: 'yes' } }),
    ).not.toBeNull();
    expect(checkModernParams(1, 'subscriptions/listen', { notifications: {} })).toBeNull();
    expect(checkModernParams(1, 'tools/call', { name: 'x', requestState: 5 })).not.toBeNull();
  });
});
