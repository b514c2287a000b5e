/**
 * The OAuth token cache with a scripted token request and clock (reuse, renewal before expiry, one fetch
 * for many askers, one renewal for many refusals, failures not kept), and the token request's reading of
 * what a token endpoint answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthClientCredentials } from '@meshgate/contracts';
import { RenewBeforeExpiryMs, TokenCache, requestToken, type Grant } from '../../src/upstream/oauth-tokens';

const auth: OAuthClientCredentials = {
  type: 'oauth-client-credentials',
  tokenUrl: 'http://127.0.0.1:1/token',
  clientId: 'router',
  clientSecret: 'unused',
};

/** A cache whose token requests are counted and answered by `grant(n)`; time is `clock.now`. */
function scripted(grant: (n: number, now: number) => Grant | Promise<Grant>) {
  const clock = { now: 1_000_000 };
  let requests = 0;
  const cache = new TokenCache(
    (_auth, _secret, _timeout, now) => Promise.resolve(grant(++requests, now)),
    () => clock.now,
  );
  return { cache, clock, requests: () => requests };
}

describe('TokenCache', () => {
  it('reuses a token until shortly before it expires, then fetches a new one', async () => {
    const { cache, clock, requests } = scripted((n, now) => ({ token: `t${n}`, renewAt: now + 50_000 }));
    expect(await cache.token(auth, 's', 1000)).toBe('t1');
    clock.now += 49_999;
    expect(await cache.token(auth, 's', 1000)).toBe('t1');
    clock.now += 1;
    expect(await cache.token(auth, 's', 1000)).toBe('t2');
    expect(requests()).toBe(2);
  });

  it('keeps tokens apart by secret and scope', async () => {
    const { cache, requests } = scripted((n) => ({ token: `t${n}`, renewAt: undefined }));
    expect(await cache.token(auth, 'a', 1000)).toBe('t1');
    expect(await cache.token(auth, 'b', 1000)).toBe('t2');
    expect(await cache.token({ ...auth, scope: 'x' }, 'a', 1000)).toBe('t3');
    expect(await cache.token(auth, 'a', 1000)).toBe('t1');
    expect(requests()).toBe(3);
  });

  it('makes one request for many askers and one renewal for many refusals', async () => {
    const { cache, requests } = scripted((n) => ({ token: `t${n}`, renewAt: undefined }));
    const first = await Promise.all([1, 2, 3].map(() => cache.token(auth, 's', 1000)));
    expect(first).toEqual(['t1', 't1', 't1']);
    const renewed = await Promise.all([1, 2, 3].map(() => cache.renew(auth, 's', 't1', 1000)));
    expect(renewed).toEqual(['t2', 't2', 't2']);
    expect(await cache.renew(auth, 's', 't1', 1000)).toBe('t2');
    expect(requests()).toBe(2);
  });

  it('does not keep a failed request', async () => {
    const { cache, requests } = scripted((n) => {
      if (n === 1) throw new Error('endpoint down');
      return { token: `t${n}`, renewAt: undefined };
    });
    await expect(cache.token(auth, 's', 1000)).rejects.toThrow('endpoint down');
    expect(await cache.token(auth, 's', 1000)).toBe('t2');
    expect(requests()).toBe(2);
  });
});

describe('requestToken', () => {
  let server: Server;
  let body = '';
  let status = 200;
  let tokenUrl = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  const answer = (s: number, b: unknown) => {
    status = s;
    body = typeof b === 'string' ? b : JSON.stringify(b);
    return requestToken({ ...auth, tokenUrl }, 'the-secret', 2000, 0);
  };

  it('renews a token a minute before it expires, or after 90% of a short lifetime', async () => {
    expect(await answer(200, { access_token: 'a', token_type: 'Bearer', expires_in: 3600 })).toEqual({
      token: 'a',
      renewAt: 3_600_000 - RenewBeforeExpiryMs,
    });
    expect(await answer(200, { access_token: 'b', token_type: 'bearer', expires_in: '10' })).toEqual({
      token: 'b',
      renewAt: 9000,
    });
    expect(await answer(200, { access_token: 'c', token_type: 'Bearer' })).toEqual({
      token: 'c',
      renewAt: undefined,
    });
  });

  it('explains refusals and invalid answers without the secret', async () => {
    const refused = answer(400, { error: 'invalid_scope', error_description: 'no such scope' });
    await expect(refused).rejects.toThrow('token endpoint answered HTTP 400: invalid_scope (no such scope)');
    await expect(answer(502, 'bad gateway')).rejects.toThrow('token endpoint answered HTTP 502');
    await expect(answer(200, { access_token: 'x', token_type: 'mac' })).rejects.toThrow(/not Bearer/);
    await expect(answer(200, 'not json')).rejects.toThrow(/answer is invalid/);
    const err = await answer(401, { error: 'invalid_client' }).catch((e: unknown) => e);
    expect(String(err)).not.toContain('the-secret');
  });
});
