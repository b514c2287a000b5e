import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '@meshgate/testing';
import { ApiClient, ApiError, ApiUnreachable } from '../src/api-client';
import { startFakeRegistry, type FakeRegistry } from './fake-registry';

let registry: FakeRegistry;
beforeEach(async () => {
  registry = await startFakeRegistry((req, res) => {
    if (req.url === '/v1/servers/broken') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"v":1,"definition":{"name":"broken"}}');
      return true;
    }
    if (req.url === '/v1/servers/html') {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
      return true;
    }
    return false;
  });
});
afterEach(() => registry.close());

describe('ApiClient.servers', () => {
  it('adds, gets, lists and removes servers as JSON', async () => {
    const api = new ApiClient({ baseUrl: registry.url });
    const added = await api.servers.add({
      name: 'fs',
      transport: 'stdio',
      command: 'npx',
      args: ['-y', 'pkg'],
    });
    expect(added).toMatchObject({ v: 1, revision: 1, definition: { name: 'fs', env: {}, enabled: true } });
    expect(registry.requests[0]).toMatchObject({
      method: 'POST',
      url: '/v1/servers',
      contentType: 'application/json',
    });
    expect(JSON.parse(registry.requests[0]!.body)).toEqual({
      name: 'fs',
      transport: 'stdio',
      command: 'npx',
      args: ['-y', 'pkg'],
    });

    await api.servers.add({ name: 'docs', transport: 'streamable-http', url: 'https://docs.example/mcp' });
    expect((await api.servers.get('docs')).definition).toMatchObject({
      transport: 'streamable-http',
      headers: {},
    });
    expect((await api.servers.list()).map((r) => r.definition.name)).toEqual(['fs', 'docs']);

    await api.servers.remove('fs');
    expect(registry.records.has('fs')).toBe(false);
    expect(registry.requests.at(-1)).toMatchObject({ method: 'DELETE', url: '/v1/servers/fs', body: '' });
  });

  it('turns problem details into an ApiError with the status and the detail', async () => {
    const api = new ApiClient({ baseUrl: registry.url });
    const missing = await api.servers.get('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({
      status: 404,
      message: 'GET /v1/servers/nope: 404 server "nope" does not exist',
    });
    await api.servers.add({ name: 'a', transport: 'stdio', command: 'x' });
    await expect(api.servers.add({ name: 'a', transport: 'stdio', command: 'x' })).rejects.toMatchObject({
      status: 409,
    });
    await expect(api.servers.get('html')).rejects.toMatchObject({
      status: 502,
      message: 'GET /v1/servers/html: 502 Bad Gateway',
    });
  });

  it('rejects an answer that breaks the contract instead of returning it', async () => {
    const api = new ApiClient({ baseUrl: registry.url });
    await expect(api.servers.get('broken')).rejects.toThrow(/unexpected answer \(definition\./);
  });

  it('reports an address where nothing listens as ApiUnreachable', async () => {
    const api = new ApiClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    const err = await api.servers.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachable);
    expect((err as Error).message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/);
  });

  it('gives up on a registry that does not answer within the timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const api = new ApiClient({
        baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        timeoutMs: 200,
      });
      await expect(api.servers.list()).rejects.toThrow(/no answer within 0.2 s/);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
