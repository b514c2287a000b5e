/**
 * Finding an issuer's keys without a configured jwksUri: OIDC discovery, RFC 8414 metadata with the
 * path inserted, metadata naming another issuer or an insecure jwks_uri, no metadata at all, and the
 * discovery being done once and tried again after a failure. Also the verifier's configuration checks.
 */
import { describe, expect, it } from 'vitest';
import { JwtVerifier, metadataUrlsFor } from '../src/index';
import { startIssuer, type IssuerFixture, type IssuerFixtureOptions } from '@meshgate/testing';

const Resource = 'https://gw.example.com/mcp';

/** Runs `run` with a fixture issuer and a verifier that trusts it without a configured jwksUri. */
async function withIssuer(
  opts: IssuerFixtureOptions,
  run: (fx: IssuerFixture, v: JwtVerifier) => Promise<void>,
): Promise<void> {
  const fx = await startIssuer(opts);
  try {
    await run(
      fx,
      new JwtVerifier([{ issuer: fx.issuer, tenant: { fixed: 'acme' } }], { resource: Resource }),
    );
  } finally {
    await fx.close();
  }
}

describe('metadataUrlsFor', () => {
  it('appends the OIDC suffix and inserts the RFC 8414 one', () => {
    expect(metadataUrlsFor('https://id.example.com')).toEqual([
      'https://id.example.com/.well-known/openid-configuration',
      'https://id.example.com/.well-known/oauth-authorization-server',
    ]);
    expect(metadataUrlsFor('https://id.example.com/realms/acme/')).toEqual([
      'https://id.example.com/realms/acme/.well-known/openid-configuration',
      'https://id.example.com/.well-known/oauth-authorization-server/realms/acme',
    ]);
  });
});

describe('JwtVerifier discovery', () => {
  it('finds the JWKS by OIDC discovery, once for many tokens', async () => {
    await withIssuer({ discovery: 'oidc', path: '/realms/acme' }, async (fx, v) => {
      for (let i = 0; i < 3; i++)
        expect((await v.verify(await fx.sign({ sub: 'a', aud: Resource }))).ok).toBe(true);
      expect(fx.requests).toEqual(['/realms/acme/.well-known/openid-configuration', '/jwks']);
    });
  });

  it('falls back to RFC 8414 metadata with the issuer path inserted', async () => {
    await withIssuer({ discovery: 'oauth', path: '/tenant' }, async (fx, v) => {
      expect((await v.verify(await fx.sign({ sub: 'a', aud: Resource }))).ok).toBe(true);
      expect(fx.requests).toEqual([
        '/tenant/.well-known/openid-configuration',
        '/.well-known/oauth-authorization-server/tenant',
        '/jwks',
      ]);
    });
  });

  it.each([
    ['names another issuer', { issuer: 'https://evil.example.com' }],
    ['has an http jwks_uri off loopback', { jwks_uri: 'http://keys.example.com/jwks' }],
    ['has no jwks_uri', { jwks_uri: undefined }],
  ])('refuses metadata that %s (unavailable)', async (_name, metadata) => {
    await withIssuer({ discovery: 'oidc', metadata }, async (fx, v) => {
      expect(await v.verify(await fx.sign({ sub: 'a', aud: Resource }))).toMatchObject({
        reason: 'unavailable',
      });
      expect(fx.requests).not.toContain('/jwks');
    });
  });

  it('answers unavailable without metadata, and tries discovery again on the next token', async () => {
    await withIssuer({ discovery: 'none' }, async (fx, v) => {
      const token = await fx.sign({ sub: 'a', aud: Resource });
      expect(await v.verify(token)).toMatchObject({ ok: false, reason: 'unavailable' });
      expect(await v.verify(token)).toMatchObject({ ok: false, reason: 'unavailable' });
      expect(fx.requests.filter((r) => r.endsWith('/openid-configuration'))).toHaveLength(2);
    });
  });
});

describe('JwtVerifier configuration', () => {
  it('lists issuers and the union of required scopes', () => {
    const v = new JwtVerifier(
      [
        { issuer: 'https://a.example.com', tenant: { fixed: 'a' }, requiredScopes: ['mcp', 'tools'] },
        { issuer: 'https://b.example.com', tenant: { claim: 'tid' }, requiredScopes: ['mcp'] },
      ],
      { resource: Resource },
    );
    expect(v.issuers).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(v.requiredScopes).toEqual(['mcp', 'tools']);
  });

  it.each([
    ['an http issuer off loopback', [{ issuer: 'http://id.example.com', tenant: { fixed: 'a' } }], /issuer/],
    [
      'an unknown field',
      [{ issuer: 'https://id.example.com', tenant: { fixed: 'a' }, audiance: 'x' }],
      /audiance/,
    ],
    [
      'the same issuer twice',
      [
        { issuer: 'https://id.example.com', tenant: { fixed: 'a' } },
        { issuer: 'https://id.example.com', tenant: { fixed: 'b' } },
      ],
      /configured twice/,
    ],
  ])('refuses %s', (_name, issuers, message) => {
    expect(() => new JwtVerifier(issuers as never, { resource: Resource })).toThrow(message);
  });

  it('refuses a resource URL that is not https', () => {
    expect(() => new JwtVerifier([], { resource: 'http://gw.example.com/mcp' })).toThrow(
      /resource URL must use https/,
    );
  });
});
