/**
 * Authentication of the MCP endpoints with MESHGATE_AUTH on (the default), over two real ingress replicas
 * and the fake router on a NATS of this file's own: no credential or a bad one gets 401 with a challenge
 * naming the endpoint's RFC 9728 metadata, which is served; an API key opens a session bound to its
 * principal (another principal, even of the same tenant, is told the session does not exist); the
 * principal reaches the router with every call; a revocation on one replica takes effect on the other
 * within a second; hostile credentials are refused cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { ApiKeyStore, type IssuedKey } from '@meshgate/auth';
import { Buckets } from '@meshgate/contracts';
import { start, type IngressHandle } from '../src/service';
import { startFakeRouter, type FakeRouter } from './fake-router';
import { ACCEPT, LATEST, initializeRequest, request, testConfig } from './harness';

let nats: SpawnedNats;
let nc: NatsConnection;
let router: FakeRouter;
let one: IngressHandle;
let two: IngressHandle;
let store: ApiKeyStore;
let ada: IssuedKey;
let bob: IssuedKey;
const PUBLIC = 'https://gateway.example.test';

beforeAll(async () => {
  nats = await spawnNats();
  nc = await connect({ servers: nats.url });
  store = await ApiKeyStore.open(nc, { bucket: Buckets.apiKeys });
  ada = await store.create({ tenant: 'acme', principal: 'ada', kind: 'agent', roles: ['agent'] });
  bob = await store.create({ tenant: 'acme', principal: 'bob', kind: 'agent', roles: ['agent'] });
  router = await startFakeRouter(nats.url, 'router-auth');
  // Replica one as behind a proxy with an OAuth issuer (its tokens are not used here: jwt-auth.test.ts);
  // replica two with API keys only.
  one = await start(
    testConfig(nats.url, {
      MESHGATE_AUTH: 'on',
      MESHGATE_PUBLIC_URL: PUBLIC,
      MESHGATE_JWT_ISSUERS: JSON.stringify([
        { issuer: 'https://idp.example.test', tenant: { fixed: 'acme' } },
      ]),
    }),
  );
  two = await start(testConfig(nats.url, { MESHGATE_AUTH: 'on' }));
}, 60_000);
afterAll(async () => {
  await one?.stop();
  await two?.stop();
  await router?.stop();
  await nc?.drain();
  await nats?.stop();
});

function mcp(base: string, body: unknown, headers: Record<string, string> = {}, path = '/mcp') {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body: JSON.stringify(body),
  });
}
const bearer = (key: IssuedKey) => ({ authorization: `Bearer ${key.apiKey}` });

async function open(base: string, key: IssuedKey): Promise<string> {
  const res = await mcp(base, initializeRequest(), bearer(key));
  expect(res.status).toBe(200);
  await res.json();
  const id = res.headers.get('mcp-session-id');
  if (!id) throw new Error('no session id');
  return id;
}

describe('ingress authentication (MESHGATE_AUTH=on)', () => {
  it('refuses a request without credentials with 401 and a challenge naming the resource metadata', async () => {
    for (const path of ['/mcp', '/servers/demo/mcp']) {
      const res = await mcp(one.url, initializeRequest(), {}, path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain(
        `resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource${path}"`,
      );
      const body = (await res.json()) as { error: { code: number; message: string } };
      expect(body.error.message).toMatch(/^Unauthorized: /);
    }
    const keysOnly = await mcp(two.url, initializeRequest());
    expect(keysOnly.status).toBe(401);
    expect(keysOnly.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(keysOnly.headers.get('www-authenticate')).not.toContain('resource_metadata');
    await keysOnly.arrayBuffer();
    const get = await fetch(`${one.url}/mcp`, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(401);
    await get.arrayBuffer();
    const del = await fetch(`${one.url}/mcp`, { method: 'DELETE' });
    expect(del.status).toBe(401);
    await del.arrayBuffer();
  });

  it('serves RFC 9728 protected resource metadata for every MCP endpoint', async () => {
    const fed = await fetch(`${one.url}/.well-known/oauth-protected-resource/mcp`);
    expect(fed.status).toBe(200);
    expect(await fed.json()).toMatchObject({
      resource: `${PUBLIC}/mcp`,
      authorization_servers: ['https://idp.example.test'],
      bearer_methods_supported: ['header'],
    });
    const server = await fetch(`${one.url}/.well-known/oauth-protected-resource/servers/demo/mcp`);
    expect(await server.json()).toMatchObject({ resource: `${PUBLIC}/servers/demo/mcp` });
    const bare = await fetch(`${one.url}/.well-known/oauth-protected-resource`);
    expect(await bare.json()).toMatchObject({ resource: `${PUBLIC}/mcp` });
    const none = await fetch(`${two.url}/.well-known/oauth-protected-resource/mcp`);
    expect(none.status).toBe(404);
    await none.arrayBuffer();
    const bad = await fetch(`${one.url}/.well-known/oauth-protected-resource/servers/..%2fx/mcp`);
    expect(bad.status).toBe(404);
    await bad.arrayBuffer();
  });

  it('opens a session for an API key and sends its principal with every call', async () => {
    const sid = await open(one.url, ada);
    const res = await mcp(one.url, request(2, 'tools/list'), {
      ...bearer(ada),
      'mcp-session-id': sid,
      'mcp-protocol-version': LATEST,
    });
    expect(res.status).toBe(200);
    await res.json();
    const call = router.calls.find((c) => c.session.id === sid && c.message.method === 'tools/list');
    expect(call?.session.principal).toMatchObject({ tenant: 'acme', id: 'ada', roles: ['agent'] });
    expect(call?.clientAddress).toBe('127.0.0.1');
  });

  it("answers another principal's use of a session like an unknown session", async () => {
    const sid = await open(one.url, ada);
    for (const base of [one.url, two.url]) {
      const res = await mcp(base, request(3, 'tools/list'), {
        ...bearer(bob),
        'mcp-session-id': sid,
        'mcp-protocol-version': LATEST,
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
    }
    const own = await mcp(two.url, request(4, 'tools/list'), {
      ...bearer(ada),
      'mcp-session-id': sid,
      'mcp-protocol-version': LATEST,
    });
    expect(own.status).toBe(200);
    await own.json();
  });

  it('stops accepting a key on every replica within a second of its revocation', async () => {
    const carol = await store.create({ tenant: 'acme', principal: 'carol', kind: 'agent', roles: ['agent'] });
    // The new key reaches replica two through its KV watch: wait (bounded) until it is accepted there.
    for (let i = 0; i < 40; i++) {
      const res = await mcp(two.url, request(0, 'ping'), bearer(carol));
      await res.arrayBuffer();
      if (res.status !== 401) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const sid = await open(two.url, carol);
    await store.revoke(carol.record.keyId);
    const revokedAt = Date.now();
    let status = 0;
    // Bounded: 40 tries 25 ms apart.
    for (let i = 0; i < 40 && status !== 401; i++) {
      const res = await mcp(two.url, request(5, 'tools/list'), {
        ...bearer(carol),
        'mcp-session-id': sid,
        'mcp-protocol-version': LATEST,
      });
      status = res.status;
      await res.arrayBuffer();
      if (status !== 401) await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
  });

  it('refuses hostile credentials cleanly and stays up', async () => {
    const cases: Record<string, string>[] = [
      { authorization: 'Bearer mgk_0123456789abcdef_forged' },
      { authorization: 'Bearer not-a-key-and-no-issuers' },
      { authorization: 'Basic YWRhOnNlY3JldA==' },
      { authorization: 'Bearer ' },
      { authorization: `Bearer mgk_${'ä'.repeat(20)}` },
      { authorization: `Bearer ${'x'.repeat(9000)}` },
    ];
    for (const headers of cases) {
      const res = await mcp(one.url, initializeRequest(), headers);
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^Bearer /);
      expect(challenge).not.toContain('forged');
      await res.arrayBuffer();
    }
    const huge = await mcp(one.url, initializeRequest(), {
      authorization: `Bearer ${'y'.repeat(64 * 1024)}`,
    });
    expect(huge.status).toBe(431);
    await huge.arrayBuffer();
    const alive = await mcp(one.url, initializeRequest(), bearer(ada));
    expect(alive.status).toBe(200);
    await alive.arrayBuffer();
  });
});
