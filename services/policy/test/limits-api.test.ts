/**
 * The admin API of the limits through `inject()`, over a real store and key verifier on the shared test
 * NATS (isolated buckets): platform-admins only (401, 403, before any body is read), no limits by default,
 * a stored value that routers parse as a LimitsConfig, unchanged limits not written again, invalid limits
 * refused with each issue and its path while the stored ones stay, conditional changes, deletion, an
 * unreadable stored value, and hostile input (oversize, wrong type, bad JSON, non-UTF-8, no body).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { Registry } from 'prom-client';
import { ApiKeyVerifier } from '@meshgate/auth';
import { createLogger } from '@meshgate/config';
import { LimitsConfig, type LimitRuleInput } from '@meshgate/contracts';
import { openPolicyBucket, PolicyEngine } from '@meshgate/policy';
import { buildHttpApp } from '../src/http-app';
import { LimitsKey } from '@meshgate/contracts';
import { LimitsDeleted, LimitsSaved, MaxLimitsBytes } from '../src/index';
import { LimitsStore } from '../src/limits-store';
import { PolicyStore } from '../src/policy-store';
import { cleanup, connectNats, isolate, issueKeys, type Keys } from './fixtures';

const iso = isolate();
let nc: NatsConnection;
let kv: KV;
let keys: Keys;
let verifier: ApiKeyVerifier;
let app: FastifyInstance;

const rules: LimitRuleInput[] = [
  { id: 'agent-rate', per: ['principal'], requests: { limit: 100, windowS: 60 } },
  { id: 'fs-concurrency', match: { server: 'fs' }, per: ['tenant'], concurrent: 4 },
  { id: 'acme-daily', match: { tenant: 'acme' }, dailyQuota: 10_000 },
];

beforeAll(async () => {
  nc = await connectNats('policy-limits-api-test');
  keys = await issueKeys(nc, iso);
  kv = await openPolicyBucket(nc, iso.bucket);
  verifier = await ApiKeyVerifier.start(nc, { bucket: iso.keysBucket });
  const auth = { mode: 'api-key', verifier } as const;
  app = buildHttpApp({
    ready: () => Promise.resolve(),
    metrics: new Registry(),
    logger: createLogger('policy-limits-api-test', 'silent'),
    api: { store: await PolicyStore.open(nc, iso.bucket), engine: new PolicyEngine(), auth },
    limits: await LimitsStore.open(nc, iso.bucket),
  });
});
afterAll(async () => {
  await app.close();
  await verifier.stop();
  await cleanup(nc, iso);
  await nc.drain();
});

type Inject = { authorization?: string; headers?: Record<string, string>; payload?: string | Buffer };
const call = (method: 'GET' | 'PUT' | 'DELETE', { authorization, headers = {}, payload }: Inject = {}) =>
  app.inject({
    method,
    url: '/admin/v1/limits',
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(payload !== undefined ? { payload } : {}),
  });
const put = (body: unknown, headers: Record<string, string> = {}) =>
  call('PUT', { authorization: keys.platformAdmin, payload: JSON.stringify(body), headers });
const stored = async () => {
  const entry = await kv.get(LimitsKey);
  return entry?.operation === 'PUT'
    ? { revision: entry.revision, value: JSON.parse(new TextDecoder().decode(entry.value)) as unknown }
    : null;
};

describe('who may manage the limits', () => {
  it('is a platform-admin only, checked before the body is read', async () => {
    const missing = await call('GET');
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="meshgate-policy"');
    for (const key of [keys.acmeAdmin, keys.acmeAgent]) {
      const res = await call('GET', { authorization: key });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail).toMatch(/may not manage the limits \(platform-admin only/);
    }
    const huge = `{"v":1,"rules":[],"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    expect((await call('PUT', { authorization: keys.acmeAdmin, payload: huge })).statusCode).toBe(403);
    expect((await call('DELETE', { authorization: keys.globexAdmin })).statusCode).toBe(403);
    expect(await stored()).toBeNull();
  });

  it('is open to anyone with MESHGATE_POLICY_AUTH=none', async () => {
    const open = buildHttpApp({
      ready: () => Promise.resolve(),
      metrics: new Registry(),
      logger: createLogger('policy-limits-open-test', 'silent'),
      api: {
        store: await PolicyStore.open(nc, iso.bucket),
        engine: new PolicyEngine(),
        auth: { mode: 'none' },
      },
      limits: await LimitsStore.open(nc, iso.bucket),
    });
    try {
      expect((await open.inject({ method: 'GET', url: '/admin/v1/limits' })).statusCode).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('reading and changing the limits', () => {
  it('has none by default, stores a LimitsConfig routers parse, and skips equal limits', async () => {
    const none = await call('GET', { authorization: keys.platformAdmin });
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual({ v: 1, rules: [] });
    expect(none.headers['etag']).toMatch(/^"[0-9a-f]{64}"$/);

    const created = await put({ v: 1, rules }, { 'if-match': none.headers['etag'] as string });
    expect(created.statusCode).toBe(200);
    const saved = LimitsSaved.parse(created.json());
    expect(saved).toMatchObject({ status: 'created', rules: 3 });
    expect(created.headers['etag']).toBe(`"${saved.sha256}"`);
    const kvValue = await stored();
    expect(kvValue?.revision).toBe(saved.revision);
    expect(LimitsConfig.parse(kvValue?.value)).toEqual(LimitsConfig.parse({ v: 1, rules }));
    expect(kvValue?.value).toEqual(LimitsConfig.parse({ v: 1, rules }));

    const reordered = await call('PUT', {
      authorization: keys.platformAdmin,
      payload: `{ "rules": ${JSON.stringify(rules, null, 2)},\n "v": 1 }`,
    });
    expect(LimitsSaved.parse(reordered.json())).toEqual({ ...saved, status: 'unchanged' });
    expect((await stored())?.revision).toBe(saved.revision);

    const read = await call('GET', { authorization: keys.platformAdmin });
    expect(read.headers['etag']).toBe(`"${saved.sha256}"`);
    expect(read.json()).toEqual(kvValue?.value);
    expect(read.json().rules[2]).toEqual({
      id: 'acme-daily',
      match: { tenant: 'acme' },
      per: [],
      dailyQuota: 10_000,
    });
  });

  it('refuses invalid limits with each issue and its path, and keeps the stored ones', async () => {
    const before = await stored();
    const bad = await put({
      v: 1,
      rules: [
        { id: 'a', requests: { limit: 0, windowS: 60 }, extra: true },
        { id: 'b', per: ['principal', 'principal'] },
        { id: 'a', concurrent: 1 },
      ],
      comment: 'x',
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const problem = bad.json();
    expect(problem.detail).toMatch(
      /^the limits are invalid: rules\.0\.requests\.limit: .*more issue\(s\)\); nothing was stored$/,
    );
    expect(problem.issues.map((i: { path: string }) => i.path)).toEqual([
      'rules.0.requests.limit',
      'rules.0',
      'rules.1',
      'rules.1',
      '',
      '',
    ]);
    expect(problem.issues).toContainEqual({ path: '', message: 'rule ids must be distinct' });
    expect((await put({ v: 2, rules: [] })).json().issues[0].path).toBe('v');
    expect((await put(null)).statusCode).toBe(422);
    expect((await put([rules])).statusCode).toBe(422);
    expect(await stored()).toEqual(before);
  });

  it('makes changes conditional with If-Match, and deletes', async () => {
    const current = (await call('GET', { authorization: keys.platformAdmin })).headers['etag'] as string;
    const one = { v: 1, rules: [rules[0]] };
    expect((await put(one, { 'if-match': `"${'0'.repeat(64)}"` })).statusCode).toBe(412);
    expect((await put(one, { 'if-match': 'yesterday' })).statusCode).toBe(400);
    const updated = await put(one, { 'if-match': current });
    expect(LimitsSaved.parse(updated.json())).toMatchObject({ status: 'updated', rules: 1 });

    const stale = await call('DELETE', {
      authorization: keys.platformAdmin,
      headers: { 'if-match': current },
    });
    expect(stale.statusCode).toBe(412);
    const del = await call('DELETE', { authorization: keys.platformAdmin });
    expect(LimitsDeleted.parse(del.json())).toEqual({ deleted: true });
    expect(await stored()).toBeNull();
    expect((await call('GET', { authorization: keys.platformAdmin })).json()).toEqual({ v: 1, rules: [] });
    expect((await call('DELETE', { authorization: keys.platformAdmin })).json()).toEqual({ deleted: false });
    expect(LimitsSaved.parse((await put(one)).json()).status).toBe('created');
  });

  it('answers 409 for an unreadable stored value until valid limits replace it', async () => {
    await kv.put(LimitsKey, new TextEncoder().encode('{"v":1,"rules":"all"}'));
    const unreadable = await call('GET', { authorization: keys.platformAdmin });
    expect(unreadable.statusCode).toBe(409);
    expect(unreadable.json().detail).toMatch(
      /the stored limits are unreadable \(the limits are invalid: rules/,
    );
    expect(LimitsSaved.parse((await put({ v: 1, rules })).json()).status).toBe('updated');
    expect((await call('GET', { authorization: keys.platformAdmin })).json().rules).toHaveLength(3);
  });
});

describe('hostile input', () => {
  it('refuses oversize (413), mistyped (415), unparsable and missing bodies (400)', async () => {
    const before = await stored();
    const auth = keys.platformAdmin;
    const huge = `{"v":1,"rules":[],"pad":"${'x'.repeat(MaxLimitsBytes)}"}`;
    expect((await call('PUT', { authorization: auth, payload: huge })).statusCode).toBe(413);
    const typed = await call('PUT', {
      authorization: auth,
      payload: JSON.stringify({ v: 1, rules }),
      headers: { 'content-type': 'text/plain' },
    });
    expect(typed.statusCode).toBe(415);
    const notJson = await call('PUT', { authorization: auth, payload: '{"v": 1, rules: []}' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().detail).toMatch(/^the body is not JSON/);
    const binary = await call('PUT', { authorization: auth, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    expect(binary.json()).toMatchObject({ status: 400, detail: 'the body is not valid UTF-8' });
    const empty = await call('PUT', { authorization: auth });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().detail).toMatch(/a JSON body with the limits/);
    expect(await stored()).toEqual(before);
  });
});
