/**
 * The keys admin API through `inject()` over a real key bucket: 401 without or with a bad key, 403 across
 * tenants and for role escalation, 400 problem details for bad and hostile bodies, paths and query
 * strings, and the happy paths (issue, list without digests, rotate, revoke taking effect at once). One
 * test listens on a socket, where Node itself refuses a 64 KiB header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import type { NatsConnection } from '@nats-io/nats-core';
import { ApiKeyList, IssuedApiKey, RevokedApiKey } from '@meshgate/contracts';
import { adminKeysApi, ApiKeyStore, ApiKeyVerifier, generateApiKey, type IssuedKey } from '../src/index';
import { connectNats, destroyBuckets, uniqueBucket } from './nats-fixture';

let nc: NatsConnection;
let app: FastifyInstance;
let store: ApiKeyStore;
let verifier: ApiKeyVerifier;
let root: IssuedKey;
let acmeAdmin: IssuedKey;
let acmeAuditor: IssuedKey;

beforeAll(async () => {
  nc = await connectNats('auth-admin-api-test');
  const bucket = uniqueBucket();
  store = await ApiKeyStore.open(nc, { bucket });
  root = await store.create({
    tenant: 'default',
    principal: 'root',
    kind: 'user',
    roles: ['platform-admin'],
  });
  acmeAdmin = await store.create({ tenant: 'acme', principal: 'ada', kind: 'user', roles: ['admin'] });
  acmeAuditor = await store.create({ tenant: 'acme', principal: 'aud', kind: 'user', roles: ['auditor'] });
  verifier = await ApiKeyVerifier.start(nc, { bucket });
  app = Fastify();
  await app.register(adminKeysApi, { store, verifier });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await verifier?.stop();
  await destroyBuckets(nc);
  await nc.drain();
});

type Method = 'GET' | 'POST' | 'DELETE';
async function call(
  method: Method,
  url: string,
  key: IssuedKey | string | null,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const auth = key === null ? {} : { authorization: `Bearer ${typeof key === 'string' ? key : key.apiKey}` };
  const res = await app.inject({
    method,
    url,
    headers: {
      ...auth,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return {
    status: res.statusCode,
    headers: res.headers,
    body: res.body ? res.json() : undefined,
    text: res.body,
  };
}

const agentKey = (extra: Record<string, unknown> = {}) => ({
  tenant: 'acme',
  principal: 'bot-1',
  kind: 'agent',
  roles: ['agent'],
  ...extra,
});

describe('authentication', () => {
  it('answers 401 problem details with a Bearer challenge without a key, and with a bad one', async () => {
    const none = await call('GET', '/admin/v1/keys', null);
    expect(none).toMatchObject({
      status: 401,
      headers: {
        'www-authenticate': 'Bearer realm="meshgate"',
        'content-type': 'application/problem+json; charset=utf-8',
      },
      body: {
        type: 'about:blank',
        title: 'Unauthorized',
        status: 401,
        detail: expect.stringContaining('Bearer'),
      },
    });
    const cases: Array<[string, string]> = [
      [`Bearer ${generateApiKey().apiKey}`, 'the API key is not valid'],
      [`Bearer ${acmeAdmin.apiKey.slice(0, 21)}${generateApiKey().secret}`, 'the API key is not valid'],
      ['Bearer mgk_x', 'the bearer credential is not a Meshgate API key'],
      [
        `Basic ${Buffer.from('admin:admin').toString('base64')}`,
        'the bearer credential is not a Meshgate API key',
      ],
      [`Bearer ${'A'.repeat(65_536)}`, 'the bearer credential is not a Meshgate API key'],
      [
        `Bearer ${acmeAdmin.apiKey.replace('mgk_', 'mgk\u200b_')}`,
        'the bearer credential is not a Meshgate API key',
      ],
    ];
    for (const [authorization, detail] of cases) {
      const res = await call('POST', '/admin/v1/keys', null, agentKey(), { authorization });
      expect(res.status, authorization.slice(0, 40)).toBe(401);
      expect(res.body.detail).toBe(detail);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
  });

  it('authenticates before it reads the body', async () => {
    expect((await call('POST', '/admin/v1/keys', null, '{not json')).status).toBe(401);
    expect((await call('POST', '/admin/v1/keys', 'Bearer x', 'x'.repeat(20_000))).status).toBe(401);
  });
});

describe('authorisation', () => {
  it('answers 403 across tenants, to roles that cannot manage keys, and to role escalation', async () => {
    const refusals: Array<[Method, string, IssuedKey, unknown, string]> = [
      ['POST', '/admin/v1/keys', acmeAdmin, agentKey({ tenant: 'globex' }), 'tenant "globex"'],
      ['POST', '/admin/v1/keys', acmeAdmin, agentKey({ roles: ['platform-admin'] }), 'platform-admin'],
      ['POST', '/admin/v1/keys', acmeAuditor, agentKey(), 'tenant "acme"'],
      ['GET', '/admin/v1/keys?tenant=globex', acmeAdmin, undefined, 'tenant "globex"'],
      ['GET', '/admin/v1/keys', acmeAuditor, undefined, 'tenant "acme"'],
      ['DELETE', `/admin/v1/keys/${root.record.keyId}`, acmeAdmin, undefined, 'tenant "default"'],
      ['POST', `/admin/v1/keys/${root.record.keyId}/rotate`, acmeAdmin, undefined, 'tenant "default"'],
    ];
    for (const [method, url, key, body, detail] of refusals) {
      const res = await call(method, url, key, body);
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.body).toMatchObject({ title: 'Forbidden', detail: expect.stringContaining(detail) });
    }
    expect(verifier.verify(root.apiKey).ok).toBe(true);
  });

  it('refuses an admin the rotation or revocation of a platform-admin key in its own tenant', async () => {
    const local = await store.create({
      tenant: 'acme',
      principal: 'ops',
      kind: 'user',
      roles: ['platform-admin'],
    });
    verifier.observe(local);
    for (const [method, url] of [
      ['POST', `/admin/v1/keys/${local.record.keyId}/rotate`],
      ['DELETE', `/admin/v1/keys/${local.record.keyId}`],
    ] as const) {
      const res = await call(method, url, acmeAdmin);
      expect(res.status).toBe(403);
      expect(res.body.detail).toBe('only a platform-admin key may grant the role platform-admin');
    }
    expect(verifier.verify(local.apiKey).ok).toBe(true);
  });
});

describe('validation', () => {
  it('answers 400 problem details naming the field for bad and hostile bodies', async () => {
    const cases: Array<[unknown, string]> = [
      ['{not json', ''],
      ['', ''],
      ['[]', ''],
      ['null', ''],
      [agentKey({ admin: true }), 'admin'],
      [agentKey({ roles: ['root'] }), 'roles.0'],
      [agentKey({ roles: 'agent' }), 'roles'],
      [agentKey({ roles: ['agent', 'agent'] }), 'roles'],
      [agentKey({ tenant: 'аcme' }), 'tenant'],
      [agentKey({ tenant: 'acme\u200d' }), 'tenant'],
      [agentKey({ principal: 'bot\u202e1' }), 'principal'],
      [agentKey({ principal: 'ｂｏｔ' }), 'principal'],
      [agentKey({ groups: ['ops', 'ops'] }), 'groups'],
      [agentKey({ kind: 'robot' }), 'kind'],
      [agentKey({ expiresInDays: 0 }), 'expiresInDays'],
      [agentKey({ expiresInDays: 1.5 }), 'expiresInDays'],
      [agentKey({ description: 'x\u001b]0;pwned\u0007' }), 'description'],
      [
        '{"tenant":"acme","principal":"bot","kind":"agent","roles":["agent"],"__proto__":{"roles":["platform-admin"]}}',
        '__proto__',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await call('POST', '/admin/v1/keys', acmeAdmin, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ title: 'Bad Request', status: 400 });
      if (field !== '') expect(res.body.errors[0].field, JSON.stringify(body)).toBe(field);
    }
    const text = await call('POST', '/admin/v1/keys', acmeAdmin, 'hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const huge = await call(
      'POST',
      '/admin/v1/keys',
      acmeAdmin,
      agentKey({ description: 'x'.repeat(20_000) }),
    );
    expect(huge.status).toBe(413);
  });

  it('answers 400 for bad key ids and query strings', async () => {
    for (const url of [
      '/admin/v1/keys/not-hex',
      '/admin/v1/keys/0123456789ABCDEF',
      `/admin/v1/keys/${encodeURIComponent('０123456789abcdef')}`,
      '/admin/v1/keys/0123456789abcdef0',
    ])
      expect((await call('DELETE', url, acmeAdmin)).status, url).toBe(400);
    expect((await call('POST', '/admin/v1/keys/x/rotate', acmeAdmin)).status).toBe(400);
    const rotateBody = await call('POST', `/admin/v1/keys/${acmeAuditor.record.keyId}/rotate`, acmeAdmin, {
      graceSeconds: -1,
    });
    expect(rotateBody).toMatchObject({ status: 400, body: { errors: [{ field: 'graceSeconds' }] } });
    for (const url of [
      '/admin/v1/keys?tenant=ACME',
      '/admin/v1/keys?tenant=acme&tenant=globex',
      '/admin/v1/keys?all=1',
    ])
      expect((await call('GET', url, acmeAdmin)).status, url).toBe(400);
    expect((await call('DELETE', '/admin/v1/keys/0000000000000000', acmeAdmin)).status).toBe(404);
  });
});

describe('happy paths', () => {
  it('issues a key once, lists keys without digests, rotates and revokes with immediate effect', async () => {
    const created = await call('POST', '/admin/v1/keys', root, {
      tenant: 'acme',
      principal: 'ci',
      kind: 'service',
      roles: ['agent', 'auditor'],
      groups: ['ci'],
      expiresInDays: 30,
      description: 'CI pipeline',
    });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const issued = IssuedApiKey.parse(created.body);
    expect(issued.key).toMatchObject({ tenant: 'acme', principal: 'ci', kind: 'service', groups: ['ci'] });
    expect(Date.parse(issued.key.expiresAt!) - Date.parse(issued.key.createdAt)).toBe(30 * 86_400_000);
    expect(created.text).not.toContain('hash');
    expect(verifier.verify(issued.apiKey)).toMatchObject({ ok: true, principal: { id: 'ci' } });

    const byAdmin = await call('POST', '/admin/v1/keys', acmeAdmin, agentKey({ roles: ['admin'] }));
    expect(byAdmin.status).toBe(201);

    const listed = await call('GET', '/admin/v1/keys', acmeAdmin);
    expect(listed.status).toBe(200);
    const list = ApiKeyList.parse(listed.body);
    expect(list.tenant).toBe('acme');
    expect(list.keys.map((k) => k.keyId)).toEqual(
      expect.arrayContaining([issued.key.keyId, acmeAdmin.record.keyId]),
    );
    expect(list.keys.every((k) => k.tenant === 'acme')).toBe(true);
    expect(listed.text).not.toMatch(/hash|mgk_/);
    expect(listed.text).not.toContain(issued.apiKey.slice(21));
    const fromRoot = ApiKeyList.parse((await call('GET', '/admin/v1/keys?tenant=acme', root)).body);
    expect(fromRoot.keys.length).toBe(list.keys.length);

    const rotatedRes = await call('POST', `/admin/v1/keys/${issued.key.keyId}/rotate`, acmeAdmin, {
      graceSeconds: 0,
    });
    expect(rotatedRes.status).toBe(201);
    const rotated = IssuedApiKey.parse(rotatedRes.body);
    expect(rotated.key).toMatchObject({ rotatedFrom: issued.key.keyId, roles: ['agent', 'auditor'] });
    expect(rotated.replaced?.revokedAt).toBeDefined();
    expect(verifier.verify(rotated.apiKey).ok).toBe(true);
    expect(verifier.verify(issued.apiKey)).toEqual({ ok: false, reason: 'revoked' });
    expect((await call('POST', `/admin/v1/keys/${issued.key.keyId}/rotate`, acmeAdmin)).status).toBe(409);

    const revokedRes = await call('DELETE', `/admin/v1/keys/${rotated.key.keyId}`, acmeAdmin);
    expect(revokedRes.status).toBe(200);
    expect(RevokedApiKey.parse(revokedRes.body).key.revokedAt).toBeDefined();
    expect(verifier.verify(rotated.apiKey)).toEqual({ ok: false, reason: 'revoked' });
    const again = await call('GET', '/admin/v1/keys', rotated.apiKey);
    expect(again).toMatchObject({ status: 401, body: { detail: 'the API key was revoked' } });
  });

  it('refuses a 64 KiB header on a real socket before any handler runs', async () => {
    const served = Fastify();
    await served.register(adminKeysApi, { store, verifier });
    const url = await served.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${url}/admin/v1/keys`, {
        headers: { authorization: `Bearer ${'A'.repeat(65_536)}` },
      });
      expect(res.status).toBe(431);
      await res.arrayBuffer();
      const ok = await fetch(`${url}/admin/v1/keys`, { headers: { authorization: `Bearer ${root.apiKey}` } });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    } finally {
      await served.close();
    }
  });
});
