/**
 * The admin API through `inject()`, over a real JetStream KV catalogue (a bucket of its own): CRUD, the
 * conditional writes, and problem details for every kind of bad request.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { connect } from '@nats-io/transport-node';
import { errors as natsErrors, type NatsConnection } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import { createLogger } from '@meshgate/config';
import type { RegistryChanged, ServerRecord } from '@meshgate/contracts';
import { KvServerCatalogue, type ServerCatalogue } from '@meshgate/store';
import { buildHttpApp } from '../src/http-app';

const bucket = `mg_test_registry_api_${randomBytes(5).toString('hex')}`;
let nc: NatsConnection;
let catalogue: KvServerCatalogue;
let app: FastifyInstance;
const changes: RegistryChanged[] = [];
let readyFault: Error | null = null;

const silent = createLogger('registry-test', 'silent');
const build = (cat: ServerCatalogue) =>
  buildHttpApp({
    catalogue: cat,
    onChange: (c) => changes.push(c),
    ready: async () => {
      if (readyFault) throw readyFault;
    },
    bodyLimit: 64 * 1024,
    logger: silent,
  });

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  catalogue = await KvServerCatalogue.open(nc, { bucket });
  app = build(catalogue);
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await (await new Kvm(nc).open(bucket)).destroy();
  await nc.drain();
});
beforeEach(() => {
  changes.length = 0;
});

const json = (
  method: 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  app.inject({
    method,
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });

/** Asserts a problem details answer with `status` and returns its body. */
function problem(
  res: LightMyRequestResponse,
  status: number,
): { detail: string; errors?: Array<{ pointer: string; detail: string }> } {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  const body = res.json();
  expect(body).toMatchObject({
    type: 'about:blank',
    status,
    title: expect.any(String),
    detail: expect.any(String),
  });
  return body;
}

const remote = { transport: 'streamable-http', url: 'https://mcp.example.com/mcp' };

describe('probes', () => {
  it('answers liveness, and readiness until a dependency fails', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    readyFault = new Error('the NATS connection is closed');
    expect(problem(await app.inject('/readyz'), 503).detail).toBe('not ready: the NATS connection is closed');
    readyFault = null;
  });
});

describe('/v1/servers', () => {
  it('creates, reads, lists, replaces and deletes a server, announcing each change', async () => {
    const created = await json('POST', '/v1/servers', { name: 'crud', ...remote, headers: { 'X-Key': 'k' } });
    expect(created.statusCode).toBe(201);
    expect(created.headers['location']).toBe('/v1/servers/crud');
    const record = created.json<ServerRecord>();
    expect(created.headers['etag']).toBe(`"${record.revision}"`);
    expect(record.definition).toMatchObject({
      name: 'crud',
      enabled: true,
      timeoutMs: 60_000,
      headers: { 'X-Key': 'k' },
    });

    const read = await app.inject('/v1/servers/crud');
    expect(read.json()).toEqual(record);
    expect(read.headers['etag']).toBe(`"${record.revision}"`);
    expect((await app.inject('/v1/servers')).json().servers).toContainEqual(record);

    const replaced = await json('PUT', '/v1/servers/crud', {
      name: 'crud',
      transport: 'stdio',
      command: 'node',
    });
    expect(replaced.statusCode).toBe(200);
    const second = replaced.json<ServerRecord>();
    expect(second.revision).toBeGreaterThan(record.revision);
    expect(second.definition).toMatchObject({ transport: 'stdio', command: 'node', args: [] });

    const deleted = await app.inject({ method: 'DELETE', url: '/v1/servers/crud' });
    expect(deleted.statusCode).toBe(204);
    problem(await app.inject('/v1/servers/crud'), 404);
    expect(problem(await app.inject({ method: 'DELETE', url: '/v1/servers/crud' }), 404).detail).toBe(
      'server "crud" does not exist',
    );
    expect(changes.map((c) => c.op)).toEqual(['put', 'put', 'delete']);
    expect(changes[1]).toEqual({ v: 1, op: 'put', name: 'crud', revision: second.revision });
    expect(changes[2]!.revision).toBeGreaterThan(second.revision);
  });

  it('creates with PUT (201) and the name only in the path', async () => {
    const res = await json('PUT', '/v1/servers/by-put', remote);
    expect(res.statusCode).toBe(201);
    expect(res.headers['location']).toBe('/v1/servers/by-put');
    expect(res.json().definition.name).toBe('by-put');
  });

  it('refuses to create a server twice with POST (409)', async () => {
    expect((await json('POST', '/v1/servers', { name: 'twice', ...remote })).statusCode).toBe(201);
    const again = await json('POST', '/v1/servers', { name: 'twice', transport: 'stdio', command: 'x' });
    expect(problem(again, 409).detail).toBe('server "twice" already exists');
    expect((await app.inject('/v1/servers/twice')).json().definition.transport).toBe('streamable-http');
  });

  it('honours If-Match on PUT and DELETE (412 when the revision moved on)', async () => {
    const first = (await json('PUT', '/v1/servers/cas', remote)).json<ServerRecord>();
    const second = await json(
      'PUT',
      '/v1/servers/cas',
      { ...remote, stateful: true },
      { 'if-match': `"${first.revision}"` },
    );
    expect(second.statusCode).toBe(200);
    const rev2 = second.json<ServerRecord>().revision;
    const stale = await json('PUT', '/v1/servers/cas', remote, { 'if-match': `"${first.revision}"` });
    expect(problem(stale, 412).detail).toBe(`server "cas" is not at revision ${first.revision}`);
    expect((await json('PUT', '/v1/servers/cas', remote, { 'if-match': String(rev2) })).statusCode).toBe(200);
    expect((await json('PUT', '/v1/servers/cas', remote, { 'if-match': '*' })).statusCode).toBe(200);
    problem(await json('PUT', '/v1/servers/cas-missing', remote, { 'if-match': '*' }), 412);
    problem(await json('PUT', '/v1/servers/cas', remote, { 'if-match': 'W/"1"' }), 400);
    problem(await json('PUT', '/v1/servers/cas', remote, { 'if-match': '"1", "2"' }), 400);
    problem(
      await app.inject({ method: 'DELETE', url: '/v1/servers/cas', headers: { 'if-match': `"${rev2}"` } }),
      412,
    );
    expect((await app.inject('/v1/servers/cas')).statusCode).toBe(200);
    problem(
      await app.inject({ method: 'DELETE', url: '/v1/servers/cas-missing', headers: { 'if-match': '"7"' } }),
      412,
    );
    expect(await catalogue.get('cas-missing')).toBeNull();
  });

  it('reports every invalid field with a JSON pointer', async () => {
    const res = await json('POST', '/v1/servers', {
      name: 'bad',
      ...remote,
      url: 'nope',
      timeoutMs: 1,
      headers: { 'a b': 'c' },
    });
    const body = problem(res, 400);
    expect(body.errors).toEqual([
      { pointer: '#/timeoutMs', detail: 'Too small: expected number to be >=100' },
      { pointer: '#/url', detail: 'Invalid URL' },
      { pointer: '#/headers/a%20b', detail: 'invalid header name' },
    ]);
    expect(body.detail).toContain('url: Invalid URL');
    expect(
      problem(await json('POST', '/v1/servers', { ...remote, name: 'x', timeoutMS: 5 }), 400).errors,
    ).toEqual([{ pointer: '#/timeoutMS', detail: 'unknown field for streamable-http servers' }]);
    expect(problem(await json('PUT', '/v1/servers/one', { name: 'two', ...remote }), 400).errors).toEqual([
      { pointer: '#/name', detail: 'must match the name in the path' },
    ]);
    expect(problem(await json('POST', '/v1/servers', remote), 400).errors?.[0]?.pointer).toBe('#/name');
    expect(
      problem(await json('POST', '/v1/servers', { name: 'x', transport: 'pigeon' }), 400).errors?.[0]
        ?.pointer,
    ).toBe('#/transport');
  });

  it('refuses bodies that are not one JSON object', async () => {
    for (const body of [[], 'text', 42, null]) problem(await json('POST', '/v1/servers', body), 400);
    problem(
      await app.inject({
        method: 'POST',
        url: '/v1/servers',
        headers: { 'content-type': 'application/json' },
        payload: '{"name":',
      }),
      400,
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/v1/servers',
        headers: { 'content-type': 'application/json' },
        payload: '',
      }),
      400,
    );
    problem(await app.inject({ method: 'PUT', url: '/v1/servers/x' }), 400);
    const poisoned = '{"name":"p","transport":"stdio","command":"x","__proto__":{"admin":true}}';
    problem(
      await app.inject({
        method: 'POST',
        url: '/v1/servers',
        headers: { 'content-type': 'application/json' },
        payload: poisoned,
      }),
      400,
    );
    const ctor = '{"name":"p","transport":"stdio","command":"x","constructor":{"prototype":{"admin":true}}}';
    problem(
      await app.inject({
        method: 'POST',
        url: '/v1/servers',
        headers: { 'content-type': 'application/json' },
        payload: ctor,
      }),
      400,
    );
    expect(await catalogue.get('p')).toBeNull();
  });

  it('answers 413 for an oversize body and 415 for anything but JSON', async () => {
    const huge = { name: 'huge', ...remote, description: 'x'.repeat(70 * 1024) };
    problem(await json('POST', '/v1/servers', huge), 413);
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded'])
      problem(
        await app.inject({
          method: 'POST',
          url: '/v1/servers',
          headers: { 'content-type': type },
          payload: 'a=b',
        }),
        415,
      );
    expect(await catalogue.get('huge')).toBeNull();
  });

  it('refuses hostile names in the path without touching the catalogue', async () => {
    for (const path of [
      'a.b',
      '%2e%2e%2fetc',
      '*',
      '%3E',
      'a%00b',
      '%E2%80%AEevil',
      '-lead',
      `a${'b'.repeat(200)}`,
      '%24KV',
    ]) {
      const res = await app.inject(`/v1/servers/${path}`);
      expect(problem(res, 400).errors).toEqual([
        { pointer: '#/name', detail: expect.stringContaining('must start with a letter') },
      ]);
      problem(await json('PUT', `/v1/servers/${path}`, remote), 400);
    }
    problem(await app.inject(`/v1/servers/a${'b'.repeat(400)}`), 414);
    problem(await app.inject('/v1/servers/%zz'), 400);
  });

  it('answers unknown routes with a 404 problem', async () => {
    expect(problem(await app.inject('/v2/anything'), 404).detail).toBe('no route GET /v2/anything');
  });
});

describe('when the catalogue fails', () => {
  const failing = (err: Error): ServerCatalogue => ({
    list: () => Promise.reject(err),
    get: () => Promise.reject(err),
    put: () => Promise.reject(err),
    remove: () => Promise.reject(err),
    watch: () => Promise.reject(err),
    ping: () => Promise.reject(err),
  });

  it('answers 503 for an unreachable NATS and 500 without internals for anything else', async () => {
    const down = build(failing(new natsErrors.ClosedConnectionError()));
    expect(problem(await down.inject('/v1/servers'), 503).detail).toBe(
      'the catalogue cannot be reached; retry later',
    );
    const broken = build(failing(new Error('secret internal state')));
    const res = await broken.inject('/v1/servers/x');
    expect(problem(res, 500).detail).toBe('internal error');
    expect(res.body).not.toContain('secret');
    await Promise.all([down.close(), broken.close()]);
  });
});
