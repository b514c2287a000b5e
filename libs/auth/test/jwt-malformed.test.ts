/**
 * Tokens refused before any key is fetched: garbage, wrong segment counts, bad base64 or JSON, unicode,
 * oversized, and tokens of foreign issuers; none of them makes the verifier reach the issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../src/index';
import { startIssuer, type IssuerFixture } from '@meshgate/testing';

const Resource = 'https://gw.example.com/mcp';

let fx: IssuerFixture;
let verifier: JwtVerifier;

beforeAll(async () => {
  fx = await startIssuer();
  verifier = new JwtVerifier([{ issuer: fx.issuer, jwksUri: fx.jwksUri, tenant: { fixed: 'acme' } }], {
    resource: Resource,
  });
});
afterAll(async () => {
  await fx.close();
});

describe('JwtVerifier: malformed tokens', () => {
  const header = Buffer.from('{"alg":"ES256"}').toString('base64url');
  it.each([
    ['empty', ''],
    ['garbage', 'not a token'],
    ['three dots', '...'],
    ['two parts', `${header}.e30`],
    ['five parts (JWE)', `${header}.a.b.c.d`],
    ['bad base64', `${header}.e!30.sig`],
    ['base64 of impossible length', `${header}.A.sig`],
    ['base64 that is not JSON', `${header}.${Buffer.from('not json').toString('base64url')}.sig`],
    ['a JSON array payload', `${header}.${Buffer.from('[1]').toString('base64url')}.sig`],
    ['unicode', `${header}.ëÿ.sig`],
    ['zero-width space', `${header}\u200b.e30.sig`],
    ['64 KB', `${header}.${'A'.repeat(65_536)}.sig`],
  ])('refuses %s as malformed', async (_name, token) => {
    expect(await verifier.verify(token)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('does not fetch keys for malformed tokens or tokens of foreign issuers', async () => {
    await verifier.verify('a.b.c');
    await verifier.verify(await fx.sign({ iss: 'https://other.example.com', sub: 'a', aud: Resource }));
    await verifier.verify(`${await fx.sign({ sub: 'a', aud: Resource })}x`.replace('.', '!'));
    expect(fx.requests).toEqual([]);
  });

  it('does fetch keys for a well-formed token of the issuer (so the test above can fail)', async () => {
    expect((await verifier.verify(await fx.sign({ sub: 'a', aud: Resource }))).ok).toBe(true);
    expect(fx.requests).toEqual(['/jwks']);
  });
});
