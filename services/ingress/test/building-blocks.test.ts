// Small pure pieces: configuration, event ids, the LRU cache, stream limits and bus-error mapping.
import { describe, expect, it } from 'vitest';
import { BusError, CallerFault } from '@meshgate/bus';
import { ErrorCodes } from '@meshgate/contracts';
import { ConfigError } from '@meshgate/config';
import { loadConfig } from '../src/config';
import { formatEventId, newStreamId, parseEventId } from '../src/event-id';
import { LruCache } from '../src/lru-cache';
import { StreamRegistry } from '../src/stream-registry';
import { initializeStatus, mapCallError } from '../src/error-mapping';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect([c.port, c.host, c.maxBodyBytes, c.requestTimeoutMs, c.sessionTtlS]).toEqual([
      8080,
      '127.0.0.1',
      4 * 1024 * 1024,
      300_000,
      86_400,
    ]);
    expect([c.eventsMaxAgeS, c.eventsMaxPerStream, c.maxStreamsPerSession, c.keepAliveMs]).toEqual([
      300, 1000, 32, 15_000,
    ]);
    expect(c.instanceId).toMatch(/^ingress-[0-9a-f]{12}$/);
  });
  it('reads lists and the Host wildcard', () => {
    const c = loadConfig({
      MESHGATE_ALLOWED_ORIGINS: 'https://A.example/, https://b.example',
      MESHGATE_ALLOWED_HOSTS: '*',
      PORT: '',
    });
    expect(c.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect([c.anyHost, c.port]).toEqual([true, 8080]);
  });
  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', MESHGATE_MAX_BODY_BYTES: '1' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  });
  it('authenticates by default, and reads JWT issuers only with the public URL they issue tokens for', () => {
    expect(loadConfig({}).auth).toEqual({ mode: 'on', jwtIssuers: [] });
    expect(loadConfig({ MESHGATE_AUTH: 'none' }).auth.mode).toBe('none');
    expect(() => loadConfig({ MESHGATE_AUTH: 'off' })).toThrow(/MESHGATE_AUTH/);
    const issuers = JSON.stringify([{ issuer: 'https://idp.example', tenant: { fixed: 'acme' } }]);
    expect(() => loadConfig({ MESHGATE_JWT_ISSUERS: issuers })).toThrow(/MESHGATE_PUBLIC_URL: required/);
    const c = loadConfig({ MESHGATE_JWT_ISSUERS: issuers, MESHGATE_PUBLIC_URL: 'https://gw.example/' });
    expect(c.auth.publicUrl).toBe('https://gw.example');
    expect(c.auth.jwtIssuers.map((i) => i.issuer)).toEqual(['https://idp.example']);
    expect(() => loadConfig({ MESHGATE_JWT_ISSUERS: '{not json' })).toThrow(/MESHGATE_JWT_ISSUERS/);
    expect(() =>
      loadConfig({ MESHGATE_JWT_ISSUERS: '[{"issuer":"http://idp.example","tenant":{"fixed":"a"}}]' }),
    ).toThrow(/MESHGATE_JWT_ISSUERS/);
  });
});

describe('event ids', () => {
  it('round-trip, splitting at the last underscore', () => {
    const s = newStreamId();
    expect(parseEventId(formatEventId(s, 42))).toEqual({ streamId: s, seq: 42 });
    expect(parseEventId('ab_cd_ef_12')).toEqual({ streamId: 'ab_cd_ef', seq: 12 });
    for (const bad of ['', 'short_1', 'abcdefgh_', 'abcdefgh_x', 'abc.defgh_1', 'abcdefgh*_1'])
      expect(parseEventId(bad), bad).toBeNull();
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry and expires old ones', () => {
    let now = 0;
    const c = new LruCache<string, number>({ capacity: 2, maxAgeMs: 100, now: () => now });
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1);
    c.set('c', 3);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([1, undefined, 3]);
    now = 101;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(1);
  });
});

describe('StreamRegistry', () => {
  it('bounds streams per session and in total, and closes them by session', () => {
    const closed: string[] = [];
    const r = new StreamRegistry(3, 2);
    const a1 = r.acquire('a', 'stream', () => closed.push('a1'));
    expect(r.acquire('a', 'call', () => closed.push('a2'))).not.toBeNull();
    expect(r.acquire('a', 'call', () => undefined)).toBeNull();
    expect(r.acquire('b', 'stream', () => closed.push('b1'))).not.toBeNull();
    expect(r.acquire('c', 'stream', () => undefined)).toBeNull();
    a1!.release();
    a1!.release();
    expect(r.size).toBe(2);
    r.closeSession('a');
    expect(closed).toEqual(['a2']);
  });
  it('reports when calls in flight have settled', async () => {
    const r = new StreamRegistry(10, 10);
    const lease = r.acquire('a', 'call', () => undefined)!;
    let settled = false;
    const waiting = r.callsSettled(5000).then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    lease.release();
    await waiting;
    expect(settled).toBe(true);
  });
});

describe('mapCallError', () => {
  it('maps bus failures to JSON-RPC codes', () => {
    expect(mapCallError(new BusError(503, 'x')).code).toBe(ErrorCodes.UpstreamUnavailable);
    expect(mapCallError(new BusError(504, 'x')).code).toBe(ErrorCodes.RequestTimeout);
    expect(mapCallError(new CallerFault('bad')).code).toBe(ErrorCodes.InvalidRequest);
    expect(mapCallError(new BusError(500, 'secret detail'))).toEqual({
      code: ErrorCodes.InternalError,
      message: 'Internal error in the gateway',
      outcome: 'failed',
    });
    expect(mapCallError(new RangeError('stack')).outcome).toBe('failed');
    expect(initializeStatus(new CallerFault('unknown server', 404))).toBe(404);
    expect(initializeStatus(new BusError(503, 'x'))).toBe(200);
  });
});
