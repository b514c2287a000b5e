/**
 * JwtVerifier against a loopback issuer: valid tokens, audience, issuer, time claims with and without
 * tolerance, refused algorithms (none, HS256), forged signatures, key rotation and the refetch cooldown,
 * and key sets that are down, redirected, huge or garbage (malformed tokens: jwt-malformed.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import { JwtVerifier, type JwtIssuerInput } from '../src/index';
import { startIssuer, type IssuerFixture } from '@meshgate/testing';

const Resource = 'https://gw.example.com/mcp';
const nowS = () => Math.floor(Date.now() / 1000);

let fx: IssuerFixture;
const base = (): JwtIssuerInput => ({ issuer: fx.issuer, jwksUri: fx.jwksUri, tenant: { fixed: 'acme' } });
const verifier = (
  over: Partial<JwtIssuerInput> = {},
  opts: Partial<ConstructorParameters<typeof JwtVerifier>[1]> = {},
) => new JwtVerifier([{ ...base(), ...over }], { resource: Resource, ...opts });

beforeAll(async () => {
  fx = await startIssuer();
});
afterAll(async () => {
  await fx.close();
});

describe('JwtVerifier: valid tokens and claims', () => {
  it('accepts a token for the gateway and maps it to a principal with scopes and expiry', async () => {
    const exp = nowS() + 600;
    const token = await fx.sign({
      sub: 'alice@example.com',
      aud: Resource,
      exp,
      scope: 'mcp:tools mcp:read',
    });
    const result = await verifier().verify(token);
    expect(result).toEqual({
      ok: true,
      principal: { tenant: 'acme', id: 'alice@example.com', kind: 'user', roles: ['agent'], groups: [] },
      scopes: ['mcp:tools', 'mcp:read'],
      issuer: fx.issuer,
      expiresAt: exp * 1000,
    });
  });

  it('accepts an audience array that includes the gateway, and a configured audience instead', async () => {
    const v = verifier();
    expect((await v.verify(await fx.sign({ sub: 'a', aud: ['other', Resource] }))).ok).toBe(true);
    const custom = verifier({ audience: 'meshgate' });
    expect((await custom.verify(await fx.sign({ sub: 'a', aud: 'meshgate' }))).ok).toBe(true);
    expect(await custom.verify(await fx.sign({ sub: 'a', aud: Resource }))).toMatchObject({
      reason: 'audience',
    });
  });

  it('refuses a token for another audience or with none', async () => {
    const v = verifier();
    expect(await v.verify(await fx.sign({ sub: 'a', aud: 'https://other.example.com/mcp' }))).toMatchObject({
      ok: false,
      reason: 'audience',
    });
    expect(await v.verify(await fx.sign({ sub: 'a' }))).toMatchObject({ ok: false, reason: 'audience' });
  });

  it('refuses an issuer that is not configured, differs by a slash, or is absent', async () => {
    const v = verifier();
    for (const iss of ['https://evil.example.com', `${fx.issuer}/`, undefined, 42]) {
      const token = await fx.sign({ sub: 'a', aud: Resource, iss });
      expect(await v.verify(token)).toMatchObject({ ok: false, reason: 'unknown-issuer' });
    }
  });

  it('applies the clock tolerance to exp: 10 s late passes, 60 s late is expired', async () => {
    const v = verifier({ clockToleranceS: 30 });
    expect((await v.verify(await fx.sign({ sub: 'a', aud: Resource, exp: nowS() - 10 }))).ok).toBe(true);
    expect(await v.verify(await fx.sign({ sub: 'a', aud: Resource, exp: nowS() - 60 }))).toMatchObject({
      ok: false,
      reason: 'expired',
      detail: 'the token has expired',
    });
  });

  it('refuses nbf and iat beyond the tolerance in the future, and a token without exp', async () => {
    const v = verifier({ clockToleranceS: 5 });
    expect(await v.verify(await fx.sign({ sub: 'a', aud: Resource, nbf: nowS() + 120 }))).toMatchObject({
      reason: 'invalid',
      detail: 'the token is not valid yet',
    });
    expect((await v.verify(await fx.sign({ sub: 'a', aud: Resource, nbf: nowS() + 2 }))).ok).toBe(true);
    expect(await v.verify(await fx.sign({ sub: 'a', aud: Resource, iat: nowS() + 120 }))).toMatchObject({
      reason: 'invalid',
      detail: 'the token claims to be issued in the future',
    });
    const noExp = await fx.sign({ sub: 'a', aud: Resource, exp: undefined });
    expect(await v.verify(noExp)).toMatchObject({
      reason: 'invalid',
      detail: 'the token has no valid expiry',
    });
  });

  it('checks time against the injected clock', async () => {
    const token = await fx.sign({ sub: 'a', aud: Resource, exp: nowS() + 3600 });
    const later = verifier({}, { now: () => Date.now() + 2 * 3600_000 });
    expect(await later.verify(token)).toMatchObject({ ok: false, reason: 'expired' });
  });
});

describe('JwtVerifier: algorithms and signatures', () => {
  it('refuses alg none', async () => {
    const token = new UnsecuredJWT({ iss: fx.issuer, sub: 'a', aud: Resource })
      .setExpirationTime('1h')
      .encode();
    expect(await verifier().verify(token)).toMatchObject({
      ok: false,
      reason: 'invalid',
      detail: "the token's signature algorithm is not accepted",
    });
  });

  it('refuses HS256, even keyed with the public JWK the issuer publishes', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(await (await fetch(fx.jwksUri)).json()));
    const token = await new SignJWT({ iss: fx.issuer, sub: 'a', aud: Resource, exp: nowS() + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: fx.kid })
      .sign(secret);
    expect(await verifier().verify(token)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('refuses an algorithm the issuer does not list although the key would verify it', async () => {
    const token = await fx.sign({ sub: 'a', aud: Resource });
    expect(await verifier({ algorithms: ['RS256'] }).verify(token)).toMatchObject({ reason: 'invalid' });
  });

  it('refuses a token signed by another key under the published kid, and a tampered payload', async () => {
    const v = verifier();
    const forged = await fx.sign({ sub: 'a', aud: Resource }, { privateKey: await fx.impostor() });
    expect(await v.verify(forged)).toMatchObject({
      reason: 'invalid',
      detail: "the token's signature is not valid",
    });
    const [h, , sig] = (await fx.sign({ sub: 'a', aud: Resource })).split('.');
    const payload = Buffer.from(
      JSON.stringify({ iss: fx.issuer, sub: 'root', aud: Resource, exp: nowS() + 60 }),
    );
    expect(await v.verify(`${h}.${payload.toString('base64url')}.${sig}`)).toMatchObject({
      reason: 'invalid',
    });
  });
});

describe('JwtVerifier: key sets', () => {
  it('picks up a rotated key by refetching the JWKS for an unknown kid once the cooldown allows', async () => {
    const own = await startIssuer();
    try {
      const v = new JwtVerifier([{ issuer: own.issuer, jwksUri: own.jwksUri, tenant: { fixed: 'acme' } }], {
        resource: Resource,
        jwksCooldownMs: 0,
      });
      const before = await own.sign({ sub: 'a', aud: Resource });
      expect((await v.verify(before)).ok).toBe(true);
      await own.rotate();
      const after = await own.sign({ sub: 'a', aud: Resource });
      expect((await v.verify(after)).ok).toBe(true);
      expect(own.requests.filter((r) => r === '/jwks')).toHaveLength(2);
      // The old key left the set: its tokens no longer verify once the set is fetched again.
      expect(await v.verify(before)).toMatchObject({ reason: 'invalid' });
    } finally {
      await own.close();
    }
  });

  it('does not refetch for unknown kids within the cooldown', async () => {
    const own = await startIssuer();
    try {
      const v = new JwtVerifier([{ issuer: own.issuer, jwksUri: own.jwksUri, tenant: { fixed: 'acme' } }], {
        resource: Resource,
      });
      expect((await v.verify(await own.sign({ sub: 'a', aud: Resource }))).ok).toBe(true);
      for (let i = 0; i < 5; i++) {
        const token = await own.sign({ sub: 'a', aud: Resource }, { kid: `unknown-${i}` });
        expect(await v.verify(token)).toMatchObject({ reason: 'invalid' });
      }
      expect(own.requests.filter((r) => r === '/jwks')).toHaveLength(1);
    } finally {
      await own.close();
    }
  });

  it.each(['down', 'redirect', 'huge', 'garbage'] as const)(
    'answers unavailable when the JWKS is %s, and recovers when it is back',
    async (mode) => {
      const own = await startIssuer();
      try {
        const errs: string[] = [];
        const v = new JwtVerifier([{ issuer: own.issuer, jwksUri: own.jwksUri, tenant: { fixed: 'acme' } }], {
          resource: Resource,
          onKeySourceError: (issuer) => errs.push(issuer),
        });
        const token = await own.sign({ sub: 'a', aud: Resource });
        own.jwksMode = mode;
        const result = await v.verify(token);
        expect(result).toMatchObject({ ok: false, reason: 'unavailable' });
        expect(errs).toEqual([own.issuer]);
        own.jwksMode = 'ok';
        expect((await v.verify(token)).ok).toBe(true);
      } finally {
        await own.close();
      }
    },
  );

  it('answers unavailable when nothing listens at the JWKS URL', async () => {
    const own = await startIssuer();
    const { issuer, jwksUri } = own;
    const token = await own.sign({ sub: 'a', aud: Resource });
    await own.close();
    const v = new JwtVerifier([{ issuer, jwksUri, tenant: { fixed: 'acme' } }], { resource: Resource });
    expect(await v.verify(token)).toMatchObject({ ok: false, reason: 'unavailable' });
  });
});
