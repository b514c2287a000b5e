/**
 * The whole registry process through `start()`: file servers applied, the API over real HTTP, change
 * events, the KV view routers watch, the NATS service endpoint, durability across a restart, and readiness
 * when NATS goes away. It runs on a NATS of its own (spawnNats): a registry answers `mg.v1.registry.list`
 * in the shared `registry` queue group, so on the shared NATS it would answer other projects' tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm, type KvWatchEntry } from '@nats-io/kv';
import { Bus } from '@meshgate/bus';
import {
  Buckets,
  RegistryChanged,
  RegistryListReply,
  Subjects,
  type ServerRecord,
} from '@meshgate/contracts';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { ConfigFileError } from '../src/config-file';
import { loadConfig, start, type RegistryHandle } from '../src/index';

let nats: SpawnedNats;
let nc: NatsConnection;
const dir = mkdtempSync(join(tmpdir(), 'mg-registry-'));
const configFile = join(dir, 'meshgate.yaml');
const running: RegistryHandle[] = [];
/** The registry left running by the restart test, used by the last test. */
let survivor: RegistryHandle | undefined;

const config = (env: Record<string, string> = {}) =>
  loadConfig({
    NATS_URL: nats.url,
    LOG_LEVEL: 'silent',
    REGISTRY_PORT: '0',
    MESHGATE_CONFIG: configFile,
    TOKEN: 'abc',
    ...env,
  });

async function startRegistry(env: Record<string, string> = {}): Promise<RegistryHandle> {
  const handle = await start(config(env));
  running.push(handle);
  return handle;
}

const send = (
  handle: RegistryHandle,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  fetch(`${handle.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

beforeAll(async () => {
  nats = await spawnNats();
  nc = await connect({ servers: nats.url });
  writeFileSync(
    configFile,
    'mcpServers:\n  from-file:\n    url: https://mcp.example.com/mcp\n    headers: { Authorization: "Bearer ${TOKEN}" }\n',
  );
});
afterAll(async () => {
  for (const handle of running) await handle.stop();
  await nc.close();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('registry service', () => {
  it('applies the file, serves the API on loopback, and announces every change', async () => {
    const events: RegistryChanged[] = [];
    const sub = nc.subscribe(Subjects.registryChanged, {
      callback: (_e, m) => {
        events.push(RegistryChanged.parse(m.json()));
      },
    });
    const registry = await startRegistry();
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await send(registry, 'GET', '/readyz')).status).toBe(200);
    const fileRecord = (await (await send(registry, 'GET', '/v1/servers/from-file')).json()) as ServerRecord;
    expect(fileRecord.definition).toMatchObject({
      transport: 'streamable-http',
      headers: { Authorization: 'Bearer abc' },
    });

    const put = await send(registry, 'PUT', '/v1/servers/api-added', { transport: 'stdio', command: 'node' });
    expect(put.status).toBe(201);
    const deleted = await send(registry, 'DELETE', '/v1/servers/api-added');
    expect(deleted.status).toBe(204);
    await nc.flush();
    const end = Date.now() + 2000;
    while (events.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    sub.unsubscribe();
    expect(events.map((e) => [e.op, e.name])).toEqual([
      ['put', 'from-file'],
      ['put', 'api-added'],
      ['delete', 'api-added'],
    ]);
  });

  it('lets a watcher on another connection see an API change within one second', async () => {
    const registry = running[0]!;
    const watcher = await connect({ servers: nats.url });
    const kv = await new Kvm(watcher).open(Buckets.registry);
    const iter = await kv.watch({ key: 'watched', include: 'updates' });
    const seen = new Promise<KvWatchEntry>((resolve) => {
      void (async () => {
        for await (const e of iter) if (e.operation === 'PUT') return resolve(e);
      })();
    });
    const sent = Date.now();
    const res = await send(registry, 'PUT', '/v1/servers/watched', {
      transport: 'sse',
      url: 'http://127.0.0.1:9/sse',
    });
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 1000));
    const entry = await Promise.race([seen, timeout]);
    const elapsed = Date.now() - sent;
    iter.stop();
    await watcher.close();
    expect(entry).not.toBeNull();
    expect(elapsed).toBeLessThan(1000);
    expect(entry?.revision).toBe(((await res.json()) as ServerRecord).revision);
  });

  it('answers mg.v1.registry.list as a NATS service in the registry queue group', async () => {
    const bus = await Bus.connect({ url: nats.url, name: 'registry-test' });
    const reply = await bus.request(Subjects.registryList, {}, RegistryListReply);
    expect(reply.servers.map((s) => s.definition.name)).toEqual(['from-file', 'watched']);
    const info = (await nc.request('$SRV.INFO.meshgate-registry', undefined, { timeout: 2000 })).json<{
      name: string;
      endpoints: Array<{ subject: string; queue_group: string }>;
    }>();
    expect(info.name).toBe('meshgate-registry');
    expect(info.endpoints).toEqual([
      expect.objectContaining({ subject: Subjects.registryList, queue_group: 'registry' }),
    ]);
    await expect(
      bus.requestRaw(Subjects.registryList, new TextEncoder().encode('not json')),
    ).rejects.toMatchObject({ code: 400 });
    await bus.close();
  });

  it('keeps API servers across a restart and re-applies the file without needless writes', async () => {
    const first = running[0]!;
    const before = (await (await send(first, 'GET', '/v1/servers/from-file')).json()) as ServerRecord;
    expect(
      (await send(first, 'POST', '/v1/servers', { name: 'durable', transport: 'stdio', command: 'x' }))
        .status,
    ).toBe(201);
    await first.stop();
    await first.stop();

    const second = await startRegistry();
    const durable = await send(second, 'GET', '/v1/servers/durable');
    expect(durable.status).toBe(200);
    expect(((await durable.json()) as ServerRecord).definition).toMatchObject({ command: 'x' });
    const after = (await (await send(second, 'GET', '/v1/servers/from-file')).json()) as ServerRecord;
    expect(after.revision).toBe(before.revision);

    writeFileSync(configFile, 'mcpServers:\n  from-file:\n    url: https://mcp.example.com/v2\n');
    await second.stop();
    const third = await startRegistry();
    const changed = (await (await send(third, 'GET', '/v1/servers/from-file')).json()) as ServerRecord;
    expect(changed.definition).toMatchObject({ url: 'https://mcp.example.com/v2' });
    expect(changed.revision).toBeGreaterThan(before.revision);
    expect((await send(third, 'GET', '/v1/servers/durable')).status).toBe(200);
    survivor = third;
  });

  it('seeds the demo upstream only when the configuration file is missing', async () => {
    const missing = join(dir, 'absent.yaml');
    const seeded = await startRegistry({ MESHGATE_CONFIG: missing, MESHGATE_DEMO_UPSTREAM: 'true' });
    const demo = (await (await send(seeded, 'GET', '/v1/servers/everything')).json()) as ServerRecord;
    expect(demo.definition).toMatchObject({ transport: 'stdio', command: process.execPath });
    const args = demo.definition.transport === 'stdio' ? demo.definition.args : [];
    expect(args[1]).toBe('stdio');
    expect(existsSync(args[0] ?? '')).toBe(true);
    await seeded.stop();
  });

  it('refuses to start on a broken configuration file, naming every problem', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"mcpServers":{"a":{"url":"nope"},"b":{"command":"x","extra":1}}}');
    const attempt = start(config({ MESHGATE_CONFIG: broken }));
    await expect(attempt).rejects.toBeInstanceOf(ConfigFileError);
    await expect(attempt).rejects.toThrow(`${broken}: server "a": url: Invalid URL`);
    await expect(attempt).rejects.toThrow(`${broken}: server "b": unknown field "extra"`);
  });

  it('reports not ready once NATS is gone, and still stops', async () => {
    const registry = survivor!;
    expect((await send(registry, 'GET', '/readyz')).status).toBe(200);
    await nats.stop();
    const res = await send(registry, 'GET', '/readyz');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect((await send(registry, 'GET', '/healthz')).status).toBe(200);
  });
});
