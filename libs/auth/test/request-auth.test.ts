/**
 * authenticateRequest end to end over a loopback issuer and a stub key verifier: the header forms it
 * refuses (missing, other schemes, several credentials, oversized, odd characters), API keys on their
 * own path, JWTs with their 401/403/503 answers and challenges, and that no answer repeats the credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@meshgate/contracts';
import {
  authenticateRequest,
  generateApiKey,
  JwtVerifier,
  type KeyVerifier,
  type RequestAuthDeps,
  type VerifyResult,
} from '../src/index';
import { startIssuer, type IssuerFixture } from '@meshgate/testing';

const Resource = 'https://gw.example.com/mcp';
const Prm = 'https://gw.example.com/.well-known/oauth-protected-resource/mcp';
const admin: Principal = { tenant: 'acme', id: 'ops', kind: 'service', roles: ['admin'], groups: [] };
const good = generateApiKey();
const revoked = generateApiKey();

/** Knows two keys: one good, one revoked; `down` makes it refuse everything as unavailable. */
function stubKeys(down = false): KeyVerifier {
  return {
    verify(apiKey: string): VerifyResult {
      if (!apiKey.startsWith('mgk_') || apiKey.length !== 64) return { ok: false, reason: 'malformed' };
      if (down) return { ok: false, reason: 'unavailable' };
      if (apiKey === good.apiKey) return { ok: true, principal: admin, keyId: good.keyId, scheme: 'api-key' };
      return { ok: false, reason: apiKey === revoked.apiKey ? 'revoked' : 'unknown' };
    },
  };
}

let fx: IssuerFixture;
let deps: RequestAuthDeps;

beforeAll(async () => {
  fx = await startIssuer();
  const jwt = new JwtVerifier(
    [{ issuer: fx.issuer, jwksUri: fx.jwksUri, tenant: { claim: 'tid' }, requiredScopes: ['mcp:tools'] }],
    { resource: Resource },
  );
  deps = { apiKeys: stubKeys(), jwt, resourceMetadataUrl: Prm };
});
afterAll(async () => {
  await fx.close();
});

describe('authenticateRequest: the header', () => {
  it('asks for a token with the metadata URL and the required scopes when there is none', async () => {
    for (const header of [undefined, '', '   ']) {
      expect(await authenticateRequest(header, deps)).toEqual({
        ok: false,
        status: 401,
        reason: 'missing',
        detail: 'an "Authorization: Bearer <token>" header is required',
        headers: { 'www-authenticate': `Bearer resource_metadata="${Prm}", scope="mcp:tools"` },
      });
    }
  });

  it('refuses other schemes without an error code', async () => {
    const result = await authenticateRequest('Basic dXNlcjpwYXNz', deps);
    expect(result).toMatchObject({ ok: false, status: 401, reason: 'unsupported-scheme' });
    if (!result.ok) expect(result.headers['www-authenticate']).not.toContain('error=');
  });

  it.each([
    ['no credential', 'Bearer', 'the Bearer credential is missing'],
    [
      'two credentials',
      `Bearer ${good.apiKey}, Bearer other`,
      'the header must carry exactly one Bearer credential',
    ],
    ['a space inside', 'Bearer abc def', 'the header must carry exactly one Bearer credential'],
    ['over 8 KB', `Bearer ${'a'.repeat(9000)}`, 'the Authorization header is longer than 8 KB'],
  ])('refuses %s as invalid_request', async (_name, header, detail) => {
    const result = await authenticateRequest(header, deps);
    expect(result).toMatchObject({ ok: false, status: 401, reason: 'bad-header', detail });
    if (!result.ok) expect(result.headers['www-authenticate']).toContain('error="invalid_request"');
  });

  it.each(['Bearer ab"c', 'Bearer tök', 'Bearer a\u200bb'])(
    'refuses odd characters in %j',
    async (header) => {
      expect(await authenticateRequest(header, deps)).toMatchObject({ status: 401, reason: 'malformed' });
    },
  );
});

describe('authenticateRequest: API keys', () => {
  it('authenticates a key, whatever the case of the scheme', async () => {
    expect(await authenticateRequest(`bearer ${good.apiKey}`, deps)).toEqual({
      ok: true,
      principal: admin,
      scheme: 'api-key',
      keyId: good.keyId,
    });
  });

  it('refuses a revoked key with 401 and a verifier that cannot answer with 503', async () => {
    const result = await authenticateRequest(`Bearer ${revoked.apiKey}`, deps);
    expect(result).toMatchObject({ status: 401, reason: 'revoked', detail: 'the API key was revoked' });
    const down = await authenticateRequest(`Bearer ${good.apiKey}`, { ...deps, apiKeys: stubKeys(true) });
    expect(down).toMatchObject({ status: 503, reason: 'unavailable', headers: { 'retry-after': '5' } });
  });

  it('takes every other credential for a malformed key when no issuer is configured', async () => {
    const token = await fx.sign({ sub: 'a', aud: Resource, tid: 'acme', scope: 'mcp:tools' });
    const result = await authenticateRequest(`Bearer ${token}`, { apiKeys: stubKeys() });
    expect(result).toMatchObject({ status: 401, reason: 'malformed' });
    if (!result.ok)
      expect(result.headers['www-authenticate']).toBe(
        'Bearer error="invalid_token", error_description="the bearer credential is not a Meshgate API key"',
      );
  });
});

describe('authenticateRequest: JWTs', () => {
  it('authenticates a token with its principal and scopes', async () => {
    const token = await fx.sign({ sub: 'alice', aud: Resource, tid: 'acme', scope: 'mcp:tools mcp:read' });
    expect(await authenticateRequest(`Bearer ${token}`, deps)).toEqual({
      ok: true,
      principal: { tenant: 'acme', id: 'alice', kind: 'user', roles: ['agent'], groups: [] },
      scheme: 'jwt',
      scopes: ['mcp:tools', 'mcp:read'],
    });
  });

  it('refuses an expired token with an invalid_token challenge that does not repeat it', async () => {
    const token = await fx.sign({
      sub: 'a',
      aud: Resource,
      tid: 'acme',
      exp: Math.floor(Date.now() / 1000) - 600,
    });
    const result = await authenticateRequest(`Bearer ${token}`, deps);
    expect(result).toEqual({
      ok: false,
      status: 401,
      reason: 'expired',
      detail: 'the token has expired',
      headers: {
        'www-authenticate': `Bearer resource_metadata="${Prm}", error="invalid_token", error_description="the token has expired", scope="mcp:tools"`,
      },
    });
    expect(JSON.stringify(result)).not.toContain(token.split('.')[2]);
  });

  it('answers 403 insufficient_scope with the scopes needed', async () => {
    const token = await fx.sign({ sub: 'a', aud: Resource, tid: 'acme', scp: ['mcp:read'] });
    const result = await authenticateRequest(`Bearer ${token}`, deps);
    expect(result).toMatchObject({ ok: false, status: 403, reason: 'insufficient_scope' });
    if (!result.ok)
      expect(result.headers['www-authenticate']).toBe(
        `Bearer error="insufficient_scope", scope="mcp:tools", resource_metadata="${Prm}", error_description="the token lacks a scope this gateway requires"`,
      );
  });

  it('refuses a token whose tenant claim is invalid', async () => {
    const token = await fx.sign({ sub: 'a', aud: Resource, tid: 'Not A Tenant', scope: 'mcp:tools' });
    expect(await authenticateRequest(`Bearer ${token}`, deps)).toMatchObject({
      status: 401,
      reason: 'invalid',
      detail: 'the tid claim is not a valid tenant id',
    });
  });

  it('answers 503 with retry-after when the keys cannot be fetched', async () => {
    const token = await fx.sign({ sub: 'a', aud: Resource, tid: 'acme', scope: 'mcp:tools' });
    const fresh = new JwtVerifier([{ issuer: fx.issuer, jwksUri: fx.jwksUri, tenant: { fixed: 'acme' } }], {
      resource: Resource,
    });
    fx.jwksMode = 'down';
    try {
      const result = await authenticateRequest(`Bearer ${token}`, { ...deps, jwt: fresh });
      expect(result).toMatchObject({
        ok: false,
        status: 503,
        reason: 'unavailable',
        headers: { 'retry-after': '5' },
      });
    } finally {
      fx.jwksMode = 'ok';
    }
  });
});
