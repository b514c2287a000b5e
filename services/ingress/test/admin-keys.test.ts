/**
 * The API keys admin API hosted by ingress, over its real socket on the shared test NATS (a key bucket of
 * its own): reachable under `/admin/v1/keys`, protected (401 with a Bearer challenge, 403 across tenants),
 * bodies parsed as JSON despite ingress's raw body parser, and independent of the MCP endpoints' own
 * authentication (here opened with MESHGATE_AUTH=none; edge-auth.test.ts covers it on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { ApiKeyStore, type IssuedKey } from '@meshgate/auth';
import { ApiKeyList, IssuedApiKey } from '@meshgate/contracts';
import { start, type IngressHandle } from '../src/service';
import { ACCEPT, request, testConfig } from './harness';

const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const bucket = `mg_test_api_keys_${randomBytes(5).toString('hex')}`;
let nc: NatsConnection;
let ingress: IngressHandle;
let admin: IssuedKey;

beforeAll(async () => {
  nc = await connect({ servers: natsUrl });
  const store = await ApiKeyStore.open(nc, { bucket });
  admin = await store.create({ tenant: 'acme', principal: 'ada', kind: 'user', roles: ['admin'] });
  ingress = await start({ ...testConfig(natsUrl), apiKeysBucket: bucket });
});
afterAll(async () => {
  await ingress?.stop();
  await (await new Kvm(nc).open(bucket)).destroy().catch(() => false);
  await nc?.drain();
});

const keys = (path = '', init: RequestInit = {}) => fetch(`${ingress.url}/admin/v1/keys${path}`, init);
const auth = () => ({ authorization: `Bearer ${admin.apiKey}` });

describe('ingress /admin/v1/keys', () => {
  it('refuses requests without a valid key with 401 and a Bearer challenge', async () => {
    const none = await keys();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="meshgate"');
    expect(none.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await none.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    const bad = await keys('', { method: 'POST', headers: { authorization: 'Bearer mgk_nope' } });
    expect(bad.status).toBe(401);
    await bad.arrayBuffer();
  });

  it('serves an admin its own tenant and refuses another one with 403', async () => {
    const mine = await keys('', { headers: auth() });
    expect(mine.status).toBe(200);
    expect(ApiKeyList.parse(await mine.json()).keys.map((k) => k.keyId)).toEqual([admin.record.keyId]);
    const theirs = await keys('?tenant=globex', { headers: auth() });
    expect(theirs.status).toBe(403);
    await theirs.arrayBuffer();
  });

  it('parses JSON bodies (ingress keeps raw bodies for MCP) and refuses other types', async () => {
    const body = JSON.stringify({ tenant: 'acme', principal: 'bot', kind: 'agent', roles: ['agent'] });
    const created = await keys('', {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body,
    });
    expect(created.status).toBe(201);
    const issued = IssuedApiKey.parse(await created.json());
    const revoked = await keys(`/${issued.key.keyId}`, { method: 'DELETE', headers: auth() });
    expect(revoked.status).toBe(200);
    await revoked.arrayBuffer();
    const text = await keys('', {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'text/plain' },
      body,
    });
    expect(text.status).toBe(415);
    await text.arrayBuffer();
  });

  it('keeps its own key check while MESHGATE_AUTH=none opens the MCP endpoint', async () => {
    const res = await fetch(`${ingress.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT },
      body: JSON.stringify(request(1, 'tools/list')),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBeNull();
    await res.arrayBuffer();
  });
});
