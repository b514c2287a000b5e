/**
 * The key as text: generation, parsing, hashing, the constant-time match, the bearer header, and the
 * refusal of malformed and hostile credentials (wrong prefix, lengths, alphabets, look-alike characters,
 * huge headers) by the verifier-independent parts and by `authenticateBearer`.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  authenticateBearer,
  bearerCredential,
  generateApiKey,
  hashSecret,
  parseApiKey,
  secretMatches,
  type KeyVerifier,
  type VerifyResult,
} from '../src/index';

describe('generateApiKey', () => {
  it('makes mgk_<16 hex>_<43 base64url> keys that parse back, with only the digest of the secret', () => {
    const key = generateApiKey();
    expect(key.apiKey).toMatch(/^mgk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.apiKey).toHaveLength(64);
    expect(parseApiKey(key.apiKey)).toEqual({ keyId: key.keyId, secret: key.secret });
    expect(Buffer.from(key.secret, 'base64url')).toHaveLength(32);
    expect(key.hash).toBe(createHash('sha256').update(key.secret).digest('hex'));
    expect(key.hash).not.toContain(key.secret);
  });

  it('never repeats a key id or a secret', () => {
    const keys = Array.from({ length: 200 }, generateApiKey);
    expect(new Set(keys.map((k) => k.keyId)).size).toBe(200);
    expect(new Set(keys.map((k) => k.secret)).size).toBe(200);
  });
});

describe('parseApiKey', () => {
  const good = generateApiKey().apiKey;

  it.each([
    ['empty', ''],
    ['no prefix', good.slice(4)],
    ['another prefix', `mgx_${good.slice(4)}`],
    ['upper-case prefix', `MGK_${good.slice(4)}`],
    ['upper-case key id', `mgk_ABCDEF0123456789${good.slice(20)}`],
    ['short secret', good.slice(0, -1)],
    ['long secret', `${good}A`],
    ['padded secret', `${good.slice(0, -1)}=`],
    ['standard base64', `${good.slice(0, -1)}+`],
    ['trailing newline', `${good}\n`],
    ['leading space', ` ${good}`],
    ['cyrillic a in the key id', `mgk_${'а'.repeat(16)}${good.slice(20)}`],
    ['fullwidth digit', `mgk_${'１'}${good.slice(5)}`],
    ['zero-width space', `${good.slice(0, 30)}\u200b${good.slice(31)}`],
    ['NUL byte', `${good.slice(0, 30)}\u0000${good.slice(31)}`],
    ['64 KiB', 'mgk_'.padEnd(65_536, 'a')],
  ])('refuses %s', (_name, text) => {
    expect(parseApiKey(text)).toBeNull();
  });
});

describe('secretMatches', () => {
  it('accepts the secret of the digest only', () => {
    const key = generateApiKey();
    expect(secretMatches(key.secret, key.hash)).toBe(true);
    const lastChanged = `${key.secret.slice(0, -1)}${key.secret.endsWith('A') ? 'B' : 'A'}`;
    expect(secretMatches(lastChanged, key.hash)).toBe(false);
    expect(secretMatches(generateApiKey().secret, key.hash)).toBe(false);
    expect(secretMatches(key.secret, hashSecret('other'))).toBe(false);
    expect(secretMatches(key.secret, 'abc')).toBe(false);
  });
});

describe('bearerCredential', () => {
  it('reads the credential of a Bearer header, whatever the case of the scheme', () => {
    expect(bearerCredential('Bearer abc')).toBe('abc');
    expect(bearerCredential('bearer abc')).toBe('abc');
    expect(bearerCredential('BEARER  abc')).toBe('abc');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['Basic', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l'],
    ['no credential', 'Bearer '],
    ['two tokens', 'Bearer a b'],
    ['tab inside', 'Bearer a\tb'],
    ['non-ASCII', 'Bearer ключ'],
    ['64 KiB', `Bearer ${'a'.repeat(65_536)}`],
  ])('gives null for %s', (_name, header) => {
    expect(bearerCredential(header)).toBeNull();
  });
});

describe('authenticateBearer', () => {
  const principal = { tenant: 'acme', id: 'alice', kind: 'user' as const, roles: [], groups: [] };
  const seen: string[] = [];
  const verifier = (result: VerifyResult): KeyVerifier => ({
    verify: (key) => {
      seen.push(key);
      return result;
    },
  });

  it('answers the principal of a key the verifier accepts', () => {
    const key = generateApiKey().apiKey;
    expect(authenticateBearer(verifier({ ok: true, principal, keyId: 'k', scheme: 'api-key' }), `Bearer ${key}`, 'mg')).toEqual({
      ok: true,
      principal,
      keyId: 'k',
      scheme: 'api-key',
    });
    expect(seen.at(-1)).toBe(key);
  });

  it('answers 401 with a challenge without a header, and with invalid_token for a bad one', () => {
    const never = verifier({ ok: false, reason: 'unknown' });
    const before = seen.length;
    expect(authenticateBearer(never, undefined, 'mg')).toMatchObject({
      ok: false,
      status: 401,
      reason: 'missing',
      headers: { 'www-authenticate': 'Bearer realm="mg"' },
    });
    const malformed = authenticateBearer(never, `Bearer ${'x'.repeat(65_536)}`, 'mg');
    expect(malformed).toMatchObject({ status: 401, reason: 'malformed' });
    expect(seen.length).toBe(before);
    expect(authenticateBearer(never, 'Bearer mgk_x', 'mg')).toMatchObject({
      status: 401,
      reason: 'unknown',
      headers: {
        'www-authenticate':
          'Bearer realm="mg", error="invalid_token", error_description="the API key is not valid"',
      },
    });
    for (const reason of ['revoked', 'expired'] as const)
      expect(authenticateBearer(verifier({ ok: false, reason }), 'Bearer k', 'mg')).toMatchObject({
        status: 401,
        reason,
      });
  });

  it('answers 503 when the verifier cannot vouch for any key', () => {
    expect(
      authenticateBearer(verifier({ ok: false, reason: 'unavailable' }), 'Bearer k', 'mg'),
    ).toMatchObject({
      ok: false,
      status: 503,
      headers: { 'retry-after': '5' },
    });
  });
});
