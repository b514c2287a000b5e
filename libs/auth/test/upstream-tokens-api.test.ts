/**
 * The upstream tokens self-service API through `inject()` over a real sealed-token bucket and a real key
 * bucket: put/status/delete as an API-key principal and as a JWT principal, each principal seeing and
 * deleting only its own token, 503 without MESHGATE_UPSTREAM_TOKEN_KEY, 401 without credentials, hostile
 * input (413, 415, bad JSON, bad server names and tokens), and the token never in an answer or a log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Principal } from '@meshgate/contracts';
import {
  ApiKeyStore,
  ApiKeyVerifier,
  UpstreamTokenKeyring,
  UpstreamTokenStatus,
  UpstreamTokenStore,
  upstreamTokensApi,
  type IssuedKey,
  type JwtVerifier,
} from '../src/index';
import { connectNats, destroyBuckets, uniqueBucket } from './nats-fixture';

const tokenBucket = `mg_test_upstream_tokens_${randomBytes(5).toString('hex')}`;
const token = 'ghp_ADA-secret-upstream-token.value';
const jwtUser: Principal = { tenant: 'acme', id: 'jo@acme.example', kind: 'user', roles: [], groups: [] };
/** Accepts the bearer `jwt.jo` as jwtUser; the real verifier is tested in jwt-verifier.test.ts. */
const fakeJwt: Pick<JwtVerifier, 'verify' | 'requiredScopes'> = {
  requiredScopes: [],
  verify: async (t) =>
    t === 'jwt.jo'
      ? { ok: true, principal: jwtUser, scopes: [], issuer: 'https://idp.example', expiresAt: 0 }
      : { ok: false, reason: 'invalid', detail: 'the token is not valid' },
};

let nc: NatsConnection;
let app: FastifyInstance;
let disabled: FastifyInstance;
let verifier: ApiKeyVerifier;
let ada: IssuedKey;
let bob: IssuedKey;
const logLines: string[] = [];

beforeAll(async () => {
  nc = await connectNats('auth-upstream-tokens-api-test');
  const keyBucket = uniqueBucket();
  const keys = await ApiKeyStore.open(nc, { bucket: keyBucket });
  ada = await keys.create({ tenant: 'acme', principal: 'ada', kind: 'user', roles: ['agent'] });
  bob = await keys.create({ tenant: 'acme', principal: 'bob', kind: 'user', roles: ['admin'] });
  verifier = await ApiKeyVerifier.start(nc, { bucket: keyBucket });
  const store = await UpstreamTokenStore.open(nc, new UpstreamTokenKeyring(randomBytes(32)), {
    bucket: tokenBucket,
  });
  const stream = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  app = Fastify({ logger: { level: 'trace', stream } });
  await app.register(upstreamTokensApi, { store, apiKeys: verifier, jwt: fakeJwt });
  disabled = Fastify();
  await disabled.register(upstreamTokensApi, { store: null, apiKeys: verifier });
  await Promise.all([app.ready(), disabled.ready()]);
});
afterAll(async () => {
  await app?.close();
  await disabled?.close();
  await verifier?.stop();
  await destroyBuckets(nc);
  await (await new Kvm(nc).open(tokenBucket)).destroy().catch(() => false);
  await nc.drain();
});

type Method = 'GET' | 'PUT' | 'DELETE';
async function call(
  method: Method,
  server: string,
  bearer: IssuedKey | string | null,
  payload?: string | object,
  headers: Record<string, string> = {},
  on: FastifyInstance = app,
) {
  const res = await on.inject({
    method,
    url: `/admin/v1/upstream-tokens/${server}`,
    headers: {
      ...(bearer === null
        ? {}
        : { authorization: `Bearer ${typeof bearer === 'string' ? bearer : bearer.apiKey}` }),
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(payload !== undefined
      ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }
      : {}),
  });
  return { status: res.statusCode, headers: res.headers, text: res.body, body: res.body ? res.json() : null };
}

describe('upstream tokens API', () => {
  it('stores the caller token, answers its status without it, and deletes it', async () => {
    expect((await call('GET', 'github', ada)).status).toBe(404);
    const put = await call('PUT', 'github', ada, { token });
    expect(put).toMatchObject({ status: 204, text: '' });
    expect(put.headers['cache-control']).toBe('no-store');
    const got = await call('GET', 'github', ada);
    expect(got.status).toBe(200);
    expect(UpstreamTokenStatus.parse(got.body)).toEqual({
      server: 'github',
      stored: true,
      updatedAt: expect.any(String),
    });
    expect(got.text).not.toContain(token);
    expect(got.text).not.toContain('ghp_');
    expect((await call('PUT', 'github', ada, { token: `${token}-2` })).status).toBe(204);
    expect((await call('DELETE', 'github', ada)).status).toBe(204);
    expect((await call('GET', 'github', ada)).status).toBe(404);
    const again = await call('DELETE', 'github', ada);
    expect(again).toMatchObject({
      status: 404,
      body: { detail: 'no upstream token stored for server "github"' },
    });
  });

  it('keeps each principal to its own token, JWT users included', async () => {
    expect((await call('PUT', 'gitlab', ada, { token })).status).toBe(204);
    expect((await call('GET', 'gitlab', bob)).status).toBe(404);
    expect((await call('DELETE', 'gitlab', bob)).status).toBe(404);
    expect((await call('GET', 'gitlab', 'jwt.jo')).status).toBe(404);
    expect((await call('PUT', 'gitlab', 'jwt.jo', { token: 'jo-token' })).status).toBe(204);
    expect((await call('GET', 'gitlab', 'jwt.jo')).body).toMatchObject({ server: 'gitlab', stored: true });
    expect((await call('DELETE', 'gitlab', 'jwt.jo')).status).toBe(204);
    expect((await call('GET', 'gitlab', ada)).status).toBe(200);
    expect((await call('DELETE', 'gitlab', ada)).status).toBe(204);
  });

  it('refuses callers without valid credentials', async () => {
    const none = await call('GET', 'github', null);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await call('PUT', 'github', 'jwt.forged', { token })).status).toBe(401);
    expect((await call('PUT', 'github', 'mgk_0123456789abcdef_x', { token })).status).toBe(401);
    expect((await call('PUT', 'github', null, '{not json')).status).toBe(401);
  });

  it('answers 503 on every route when no key is configured', async () => {
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await call(method, 'github', ada, method === 'PUT' ? { token } : undefined, {}, disabled);
      expect(res.status, method).toBe(503);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body.detail).toBe(
        'upstream tokens are disabled: MESHGATE_UPSTREAM_TOKEN_KEY is not configured',
      );
    }
  });

  it('answers hostile input with problem details that never echo the token', async () => {
    const cases: Array<[Method, string, string | object | undefined, Record<string, string>, number]> = [
      ['PUT', 'github', 'x'.repeat(17 * 1024), {}, 413],
      ['PUT', 'github', JSON.stringify({ token: 'a'.repeat(8193) }), {}, 400],
      ['PUT', 'github', token, { 'content-type': 'text/plain' }, 415],
      ['PUT', 'github', `{"token": "${token}"`, {}, 400],
      ['PUT', 'github', undefined, {}, 400],
      ['PUT', 'github', { token: '' }, {}, 400],
      ['PUT', 'github', { token: `${token} with spaces` }, {}, 400],
      ['PUT', 'github', { token: 42 }, {}, 400],
      ['PUT', 'github', { token, extra: 1 }, {}, 400],
      ['PUT', '1github', { token }, {}, 400],
      ['PUT', 'git_hub', { token }, {}, 400],
      ['GET', `${'a'.repeat(64)}`, undefined, {}, 400],
      ['DELETE', '%E2%80%8Bgithub', undefined, {}, 400],
    ];
    for (const [method, server, payload, headers, status] of cases) {
      const res = await call(method, server, ada, payload, headers);
      const label = `${method} ${server.slice(0, 20)} ${String(typeof payload === 'string' ? payload.slice(0, 20) : JSON.stringify(payload))}`;
      expect(res.status, label).toBe(status);
      expect(res.headers['content-type'], label).toBe('application/problem+json; charset=utf-8');
      expect(res.text, label).not.toContain(token);
    }
    expect((await call('GET', 'github', ada)).status).toBe(404);
  });

  it('never writes a token to the log', async () => {
    expect((await call('PUT', 'logged', ada, { token })).status).toBe(204);
    expect((await call('DELETE', 'logged', ada)).status).toBe(204);
    const log = logLines.join('');
    expect(log).toContain('upstream token stored');
    expect(log).not.toContain(token);
    expect(log).not.toContain('jo-token');
  });
});
