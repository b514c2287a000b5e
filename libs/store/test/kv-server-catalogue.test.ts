/**
 * The KV adapter against a real NATS: the conformance suite, then what only this adapter promises (the
 * bucket's shape, and corrupt entries skipped and reported instead of crashing the reader).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm, type KV } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import { KvServerCatalogue, type CatalogueChange } from '../src/index';
import { describeServerCatalogueConformance } from './server-catalogue.conformance';

let nc: NatsConnection;
const buckets: string[] = [];

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
});
afterAll(async () => {
  const kvm = new Kvm(nc);
  for (const b of buckets) await (await kvm.open(b)).destroy().catch(() => false);
  await nc.drain();
});

function uniqueBucket(): string {
  const bucket = `mg_test_registry_${randomBytes(5).toString('hex')}`;
  buckets.push(bucket);
  return bucket;
}

describeServerCatalogueConformance('JetStream KV', async () => {
  const catalogue = await KvServerCatalogue.open(nc, { bucket: uniqueBucket() });
  return { catalogue, dispose: async () => {} };
});

describe('KvServerCatalogue', () => {
  it('creates its bucket with history 1 on file storage, and binds to it when it exists', async () => {
    const bucket = uniqueBucket();
    const first = await KvServerCatalogue.open(nc, { bucket });
    const status = await (await new Kvm(nc).open(bucket)).status();
    expect(status.history).toBe(1);
    expect(status.storage).toBe(StorageType.File);
    const written = await first.put({
      name: 'shared',
      transport: 'stdio',
      command: 'x',
      args: [],
      env: {},
      enabled: true,
      stateful: false,
      timeoutMs: 1000,
    });
    const second = await KvServerCatalogue.open(nc, { bucket });
    expect(await second.get('shared')).toEqual(written);
  });

  describe('with corrupt entries', () => {
    const corrupt: Array<[string, string]> = [];
    let cat: KvServerCatalogue;
    let kv: KV;
    let bucket: string;

    beforeAll(async () => {
      bucket = uniqueBucket();
      cat = await KvServerCatalogue.open(nc, {
        bucket,
        onCorrupt: (key, reason) => corrupt.push([key, reason]),
      });
      kv = await new Kvm(nc).open(bucket);
      await cat.put({
        name: 'good',
        transport: 'stdio',
        command: 'x',
        args: [],
        env: {},
        enabled: true,
        stateful: false,
        timeoutMs: 1000,
      });
      await kv.put('notjson', '{ nope');
      await kv.put('badutf8', new Uint8Array([0xff, 0xfe, 0x7b]));
      await kv.put(
        'wrongschema',
        JSON.stringify({
          v: 1,
          definition: { name: 'wrongschema', transport: 'carrier-pigeon' },
          updatedAt: 'x',
        }),
      );
      await kv.put('futurev', JSON.stringify({ v: 2, definition: {}, updatedAt: 'x' }));
      const elsewhere = {
        v: 1,
        definition: { name: 'other', transport: 'stdio', command: 'x' },
        updatedAt: 'x',
      };
      await kv.put('mismatch', JSON.stringify(elsewhere));
      await kv.put('not.a.name', JSON.stringify(elsewhere));
    });

    it('lists the readable records and reports every unreadable one by key', async () => {
      corrupt.length = 0;
      const names = (await cat.list()).map((r) => r.definition.name);
      expect(names).toEqual(['good']);
      const keys = corrupt.map(([k]) => k).sort();
      expect(keys).toEqual(['badutf8', 'futurev', 'mismatch', 'not.a.name', 'notjson', 'wrongschema']);
      expect(Object.fromEntries(corrupt)['notjson']).toBe('value is not UTF-8 JSON');
      expect(Object.fromEntries(corrupt)['mismatch']).toContain('names server "other"');
      expect(Object.fromEntries(corrupt)['wrongschema']).toContain('definition.transport');
    });

    it('answers null for a corrupt entry and lets a write heal it', async () => {
      expect(await cat.get('notjson')).toBeNull();
      const healed = await cat.put({
        name: 'notjson',
        transport: 'sse',
        url: 'http://127.0.0.1:1/sse',
        headers: {},
        enabled: true,
        stateful: false,
        timeoutMs: 1000,
      });
      expect(await cat.get('notjson')).toEqual(healed);
    });

    it('skips corrupt entries in a watch and goes on delivering', async () => {
      const seen: CatalogueChange[] = [];
      const watch = await cat.watch((c) => seen.push(c));
      await kv.put('futurev', JSON.stringify({ v: 3 }));
      await cat.put({
        name: 'later',
        transport: 'stdio',
        command: 'y',
        args: [],
        env: {},
        enabled: true,
        stateful: false,
        timeoutMs: 1000,
      });
      const end = Date.now() + 2000;
      while (!seen.some((c) => c.op === 'put' && c.record.definition.name === 'later') && Date.now() < end)
        await new Promise((r) => setTimeout(r, 10));
      await watch.stop();
      const names = seen.map((c) => (c.op === 'put' ? c.record.definition.name : c.name));
      expect(names.sort()).toEqual(['good', 'later', 'notjson']);
    });

    it('reports a listener that throws and keeps watching', async () => {
      const errors: unknown[] = [];
      const watching = await KvServerCatalogue.open(nc, { bucket, onError: (e) => errors.push(e) });
      let calls = 0;
      const watch = await watching.watch(() => {
        calls++;
        throw new Error('listener bug');
      });
      const end = Date.now() + 2000;
      while (calls < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      await watch.stop();
      expect(calls).toBe(3);
      expect(errors).toHaveLength(3);
    });
  });
});
