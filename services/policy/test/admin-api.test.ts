/**
 * The admin API of policy sets through `inject()`, over a real store, sync and key verifier on the shared
 * test NATS (isolated buckets): who may read and change which set (401, 403), replacing a set in text or
 * JSON, a bad set refused with its errors and lines while the old set stays, dry runs, conditional
 * changes, deletion rules, and hostile input (huge and non-UTF-8 bodies, look-alike and unknown names).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { NatsConnection } from '@nats-io/nats-core';
import { Registry } from 'prom-client';
import { ApiKeyVerifier } from '@meshgate/auth';
import { createLogger } from '@meshgate/config';
import { PolicyEngine, PolicySync } from '@meshgate/policy';
import { buildHttpApp } from '../src/http-app';
import { PolicySetDocument, PolicySetList, PolicySetSaved, PolicySetValidation } from '../src/index';
import { LimitsStore } from '../src/limits-store';
import { PolicyStore } from '../src/policy-store';
import { cleanup, connectNats, isolate, issueKeys, within, type Keys } from './fixtures';

const iso = isolate();
let nc: NatsConnection;
let app: FastifyInstance;
let keys: Keys;
let engine: PolicyEngine;
let sync: PolicySync;
let verifier: ApiKeyVerifier;

const agentsOnly = '@id("agents") permit (principal in Meshgate::Role::"agent", action, resource);';

beforeAll(async () => {
  nc = await connectNats('policy-admin-api-test');
  keys = await issueKeys(nc, iso);
  const store = await PolicyStore.open(nc, iso.bucket);
  await store.save('platform', agentsOnly, 'test');
  engine = new PolicyEngine();
  sync = await PolicySync.start(nc, { bucket: iso.bucket, engine });
  verifier = await ApiKeyVerifier.start(nc, { bucket: iso.keysBucket });
  app = buildHttpApp({
    ready: () => Promise.resolve(),
    metrics: new Registry(),
    logger: createLogger('policy-admin-test', 'silent'),
    api: { store, engine, auth: { mode: 'api-key', verifier } },
    limits: await LimitsStore.open(nc, iso.bucket),
  });
});
afterAll(async () => {
  await app.close();
  await verifier.stop();
  await sync.stop();
  await cleanup(nc, iso);
  await nc.drain();
});

const put = (name: string, text: string, authorization: string, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'PUT',
    url: `/admin/v1/policies/${name}`,
    headers: { authorization, 'content-type': 'text/plain', ...headers },
    payload: text,
  });
const get = (url: string, authorization?: string) =>
  app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

describe('who may manage which set', () => {
  it('refuses requests without a valid key (401) and principals without the right (403)', async () => {
    const missing = await get('/admin/v1/policies/acme');
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="meshgate-policy"');
    expect((await get('/admin/v1/policies', 'Bearer mgk_0000000000000000_xxx')).statusCode).toBe(401);
    expect((await get('/admin/v1/policies', keys.acmeAgent)).statusCode).toBe(403);
    expect((await put('acme', agentsOnly, keys.acmeAgent)).statusCode).toBe(403);
    expect((await put('acme', agentsOnly, keys.globexAdmin)).statusCode).toBe(403);
    const platform = await put('platform', agentsOnly, keys.acmeAdmin);
    expect(platform.statusCode).toBe(403);
    expect(platform.json().detail).toMatch(/platform-admin only/);
    expect((await get('/admin/v1/policies/platform', keys.acmeAdmin)).statusCode).toBe(403);
  });

  it("lets a tenant admin manage its own tenant's set, and a platform admin every set", async () => {
    const created = await put('acme', agentsOnly, keys.acmeAdmin);
    expect(created.statusCode).toBe(200);
    const saved = PolicySetSaved.parse(created.json());
    expect(saved).toMatchObject({ name: 'acme', status: 'created', policies: 1, source: 'api:acme/alice' });
    expect(created.headers['etag']).toBe(`"${saved.sha256}"`);
    expect(PolicySetSaved.parse((await put('acme', agentsOnly, keys.acmeAdmin)).json()).status).toBe(
      'unchanged',
    );
    expect((await put('globex', agentsOnly, keys.platformAdmin)).statusCode).toBe(200);

    const own = PolicySetList.parse((await get('/admin/v1/policies', keys.acmeAdmin)).json());
    expect(own.sets.map((s) => s.name)).toEqual(['acme']);
    const all = PolicySetList.parse((await get('/admin/v1/policies', keys.platformAdmin)).json());
    expect(all.sets.map((s) => s.name)).toEqual(['acme', 'globex', 'platform']);
    expect(all.sets.find((s) => s.name === 'platform')).toMatchObject({ policies: 1, source: 'test' });

    const doc = await get('/admin/v1/policies/acme', keys.acmeAdmin);
    expect(PolicySetDocument.parse(doc.json())).toMatchObject({
      name: 'acme',
      text: agentsOnly,
      revision: saved.revision,
    });
  });
});

describe('changing a set', () => {
  it('refuses a bad set with each error and its line, and keeps the old set in force', async () => {
    expect((await put('platform', agentsOnly, keys.platformAdmin)).statusCode).toBe(200);
    await within(2_000, 'the platform set installed', () => engine.sets().some((s) => s.name === 'platform'));
    const bad = await put(
      'platform',
      `${agentsOnly}\n\npermit (principal, action resource);\n`,
      keys.platformAdmin,
    );
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.json()).toMatchObject({
      status: 422,
      errors: [{ line: 3, column: 27, message: expect.stringMatching(/unexpected token `resource`/) }],
    });
    const typo = await put(
      'platform',
      'permit (principal, action, resource) when { principal.nme == "x" };',
      keys.platformAdmin,
    );
    expect(typo.json().errors).toEqual([
      expect.objectContaining({ line: 1, column: 45, policyId: 'policy0' }),
    ]);
    expect(
      PolicySetDocument.parse((await get('/admin/v1/policies/platform', keys.platformAdmin)).json()).text,
    ).toBe(agentsOnly);
  });

  it('takes JSON bodies, dry runs, and conditional changes', async () => {
    const json = await app.inject({
      method: 'PUT',
      url: '/admin/v1/policies/acme',
      headers: { authorization: keys.acmeAdmin, 'content-type': 'application/json' },
      payload: {
        text: `${agentsOnly}\n@id("no-delete") forbid (principal, action, resource == Meshgate::Tool::"fs/delete");`,
      },
    });
    const saved = PolicySetSaved.parse(json.json());
    expect(saved).toMatchObject({ status: 'updated', policies: 2 });
    const dry = await app.inject({
      method: 'POST',
      url: '/admin/v1/policies/acme/validate',
      headers: { authorization: keys.acmeAdmin, 'content-type': 'text/plain' },
      payload: 'forbid (principal, action, resource) when { context.nope };',
    });
    expect(PolicySetValidation.parse(dry.json())).toMatchObject({
      valid: false,
      errors: [{ line: 1, policyId: 'policy0' }],
    });
    const stale = await put('acme', agentsOnly, keys.acmeAdmin, { 'if-match': `"${'0'.repeat(64)}"` });
    expect(stale.statusCode).toBe(412);
    expect(
      (await put('acme', agentsOnly, keys.acmeAdmin, { 'if-match': `"${saved.sha256}"` })).statusCode,
    ).toBe(200);
    expect((await put('acme', agentsOnly, keys.acmeAdmin, { 'if-match': 'yesterday' })).statusCode).toBe(400);
  });

  it('deletes a tenant set, never the platform set', async () => {
    const del = (name: string, authorization: string) =>
      app.inject({ method: 'DELETE', url: `/admin/v1/policies/${name}`, headers: { authorization } });
    expect((await del('platform', keys.platformAdmin)).statusCode).toBe(409);
    expect((await del('globex', keys.acmeAdmin)).statusCode).toBe(403);
    expect((await del('globex', keys.globexAdmin)).json()).toEqual({ name: 'globex', deleted: true });
    expect((await del('globex', keys.globexAdmin)).statusCode).toBe(404);
    expect((await get('/admin/v1/policies/globex', keys.globexAdmin)).statusCode).toBe(404);
  });
});

describe('hostile input', () => {
  it('refuses huge, non-UTF-8, unparsable and mistyped bodies', async () => {
    const huge = await put('acme', `// ${'x'.repeat(1_000_001)}`, keys.acmeAdmin);
    expect(huge.statusCode).toBe(413);
    const hugeJson = await app.inject({
      method: 'PUT',
      url: '/admin/v1/policies/acme',
      headers: { authorization: keys.acmeAdmin, 'content-type': 'application/json' },
      payload: { text: `// ${'é'.repeat(600_000)}` },
    });
    expect(hugeJson.statusCode).toBe(413);
    const binary = await app.inject({
      method: 'PUT',
      url: '/admin/v1/policies/acme',
      headers: { authorization: keys.acmeAdmin, 'content-type': 'text/plain' },
      payload: Buffer.from([0x70, 0x65, 0xff, 0xfe, 0x72]),
    });
    expect(binary.statusCode).toBe(400);
    expect(binary.json().detail).toBe('the body is not valid UTF-8');
    for (const [type, payload] of [
      ['application/json', '{"text": 1}'],
      ['application/json', '{"text": "x", "extra": 1}'],
      ['application/json', '{not json'],
    ] as const) {
      const res = await put('acme', payload, keys.acmeAdmin, { 'content-type': type });
      expect(res.statusCode, payload).toBe(400);
    }
    expect(
      (await put('acme', agentsOnly, keys.acmeAdmin, { 'content-type': 'application/xml' })).statusCode,
    ).toBe(415);
  });

  it('refuses invalid and look-alike set names (400), and answers 404 for unknown ones', async () => {
    for (const name of ['Acme', 'acm%C3%A9', '%D0%B0cme', 'acme_x', '-acme', 'a'.repeat(64), '..%2Fplatform'])
      expect((await get(`/admin/v1/policies/${name}`, keys.platformAdmin)).statusCode, name).toBe(400);
    expect((await get('/admin/v1/policies/initech', keys.platformAdmin)).statusCode).toBe(404);
    expect((await get('/admin/v1/policies/acme/other', keys.platformAdmin)).statusCode).toBe(404);
  });
});
