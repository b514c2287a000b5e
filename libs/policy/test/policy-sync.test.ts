/**
 * PolicySync and PolicyFreshness against the real test NATS (a bucket and a heartbeat subject per test):
 * the bucket's content is in force when `start` resolves, a put reaches the engine, a record that does not
 * decode or compile leaves the old set in force and is reported, a delete removes the set, other keys are
 * skipped, a closed connection makes the sync unhealthy; heartbeats keep the freshness check fresh.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { subject, type PolicySetRecord } from '@meshgate/contracts';
import {
  encodePolicyRecord,
  openPolicyBucket,
  PolicyEngine,
  PolicyFreshness,
  PolicySync,
  policySetKey,
  type CompileError,
} from '../src/index';
import { connectNats, destroyBuckets, request, uniqueBucket, within } from './fixtures';

let nc: NatsConnection;
const syncs: PolicySync[] = [];

beforeAll(async () => {
  nc = await connectNats('policy-sync-test');
});
afterEach(async () => {
  for (const s of syncs.splice(0)) await s.stop();
});
afterAll(async () => {
  await destroyBuckets(nc);
  await nc.drain();
});

function record(name: string, text: string): PolicySetRecord {
  return {
    v: 1,
    name,
    text,
    source: 'test',
    updatedAt: new Date().toISOString(),
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}

async function started(bucket: string, conn = nc) {
  const engine = new PolicyEngine();
  const invalid: [string, CompileError[]][] = [];
  const sync = await PolicySync.start(conn, {
    bucket,
    engine,
    onInvalid: (name, errors) => invalid.push([name, errors]),
  });
  syncs.push(sync);
  return { engine, sync, invalid };
}

const permitAll = 'permit (principal, action, resource);';

describe('PolicySync', () => {
  it('installs what the bucket holds before start resolves, then follows puts and deletes', async () => {
    const bucket = uniqueBucket();
    const kv = await openPolicyBucket(nc, bucket);
    const first = await kv.put(policySetKey('platform'), encodePolicyRecord(record('platform', permitAll)));
    await kv.put('limits', new TextEncoder().encode('{"v":1}'));
    const { engine, sync, invalid } = await started(bucket);
    expect(sync.healthy()).toBe(true);
    expect(engine.sets()).toEqual([{ name: 'platform', revision: first, policies: 1 }]);
    expect(engine.decide(request()).effect).toBe('allow');

    const forbid = await kv.put(
      policySetKey('acme'),
      encodePolicyRecord(record('acme', '@id("none") forbid (principal, action, resource);')),
    );
    await within(2_000, 'the acme set', () => engine.decide(request()).effect === 'deny');
    expect(engine.decide(request())).toMatchObject({ policies: ['acme/none'], revision: forbid });
    expect(sync.revision).toBe(forbid);

    await kv.delete(policySetKey('acme'));
    await within(2_000, 'the acme set removed', () => engine.decide(request()).effect === 'allow');
    expect(engine.sets().map((s) => s.name)).toEqual(['platform']);
    expect(invalid).toEqual([]);
  });

  it('leaves the old set in force when a record is unreadable or does not compile, and reports it', async () => {
    const bucket = uniqueBucket();
    const kv = await openPolicyBucket(nc, bucket);
    const good = await kv.put(policySetKey('platform'), encodePolicyRecord(record('platform', permitAll)));
    const { engine, invalid } = await started(bucket);
    const key = policySetKey('platform');
    await kv.put(key, encodePolicyRecord(record('platform', 'permit (principal, action resource);')));
    await kv.put(key, new Uint8Array([0xff, 0xfe, 0x7b]));
    await kv.put(key, encodePolicyRecord({ ...record('platform', permitAll), sha256: '0'.repeat(64) }));
    await kv.put(key, encodePolicyRecord(record('acme', permitAll)));
    await kv.put('set.Not-A-Name', encodePolicyRecord(record('platform', permitAll)));
    await within(2_000, 'five reports', () => invalid.length === 5);
    expect(invalid.map(([name, errors]) => [name, errors[0]?.message.slice(0, 30), errors[0]?.line])).toEqual(
      [
        ['platform', 'unexpected token `resource`: e', 1],
        ['platform', 'unreadable record: not JSON', undefined],
        ['platform', 'unreadable record: the sha256 ', undefined],
        ['platform', 'unreadable record: the record ', undefined],
        ['Not-A-Name', 'the key does not name a policy', undefined],
      ],
    );
    expect(engine.sets()).toEqual([{ name: 'platform', revision: good, policies: 1 }]);
    expect(engine.decide(request()).effect).toBe('allow');
  });

  it('turns unhealthy when its connection closes', async () => {
    const own = await connectNats('policy-sync-closing');
    const { sync } = await started(uniqueBucket(), own);
    expect(sync.healthy()).toBe(true);
    await own.close();
    await within(2_000, 'unhealthy', () => !sync.healthy());
  });
});

describe('PolicyFreshness', () => {
  it('is fresh while heartbeats arrive within staleMs, and stale after', async () => {
    const heartbeats = subject('test', randomBytes(5).toString('hex'), 'heartbeat');
    let now = 1_000_000;
    const freshness = PolicyFreshness.start(nc, { staleMs: 3_000, subject: heartbeats, now: () => now });
    try {
      expect(freshness.fresh()).toBe(false);
      nc.publish(heartbeats, 'not json');
      nc.publish(heartbeats, JSON.stringify({ v: 2, instance: 'x', revision: 1, time: 1 }));
      await nc.flush();
      expect(freshness.fresh()).toBe(false);
      nc.publish(heartbeats, JSON.stringify({ v: 1, instance: 'policy-1', revision: 4, time: 5 }));
      await within(2_000, 'a heartbeat', () => freshness.fresh());
      expect(freshness.last).toEqual({ v: 1, instance: 'policy-1', revision: 4, time: 5 });
      now += 3_000;
      expect(freshness.fresh()).toBe(true);
      now += 1;
      expect(freshness.fresh()).toBe(false);
    } finally {
      freshness.stop();
      freshness.stop();
    }
    expect(PolicyFreshness.start(nc, { staleMs: 0 }).fresh()).toBe(true);
    expect(() => PolicyFreshness.start(nc, { staleMs: -1 })).toThrow(RangeError);
  });
});
