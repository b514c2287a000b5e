// The requestState codec: what it binds, and every way a presented state is refused.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  argumentsDigest,
  requestTarget,
  signRequestState,
  verifyRequestState,
  type HeldState,
  type RetryOf,
} from '../src/request-state';

const key = randomBytes(32);
const now = 1_800_000_000_000;
const params = { name: 'elicit', arguments: { b: 2, a: { y: 1, x: [1, { d: 1, c: 2 }] } } };
const retry: RetryOf = {
  tenant: 'acme',
  principal: 'alice',
  method: 'tools/call',
  target: requestTarget(params),
  digest: argumentsDigest(params),
};
const held: HeldState = {
  k: 'hold',
  i: 'ingress-a',
  h: 'hold-0123456789',
  r: 1,
  t: 'acme',
  p: 'alice',
  m: 'tools/call',
  n: 'elicit',
  d: retry.digest,
  e: now + 60_000,
};

describe('request state', () => {
  it('round-trips for the same principal and request', () => {
    const token = signRequestState(key, held);
    expect(token.startsWith('mg1.')).toBe(true);
    expect(verifyRequestState(key, token, retry, now)).toEqual({ ok: true, state: held });
  });

  it('refuses a forged, tampered or foreign-key token without reading its payload', () => {
    const token = signRequestState(key, held);
    const [prefix, payload, mac] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...held, p: 'mallory' })).toString('base64url');
    for (const bad of [
      'garbage',
      'mg1.',
      `${prefix}.${forged}.${mac}`,
      `${prefix}.${payload}.${mac.slice(0, -2)}AA`,
      signRequestState(randomBytes(32), held),
    ])
      expect(verifyRequestState(key, bad, retry, now).ok).toBe(false);
  });

  it('refuses an expired state, another principal, another request', () => {
    const token = signRequestState(key, held);
    expect(verifyRequestState(key, token, retry, held.e)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyRequestState(key, token, { ...retry, principal: 'bob' }, now)).toEqual({
      ok: false,
      reason: 'issued to another principal',
    });
    expect(verifyRequestState(key, token, { ...retry, target: 'other' }, now)).toEqual({
      ok: false,
      reason: 'issued for another request',
    });
    expect(
      verifyRequestState(key, token, { ...retry, digest: argumentsDigest({ arguments: { b: 3 } }) }, now).ok,
    ).toBe(false);
  });

  it('digests arguments independently of key order', () => {
    expect(argumentsDigest({ arguments: { a: { x: [1, { c: 2, d: 1 }], y: 1 }, b: 2 } })).toBe(retry.digest);
    expect(argumentsDigest({})).toBe(argumentsDigest({ arguments: null }));
    expect(requestTarget({ uri: 'fixture://text' })).toBe('fixture://text');
  });
});
