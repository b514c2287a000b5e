/**
 * The key store and the verifier against a real NATS (a bucket per test): issuing and listing, only the
 * digest at rest, verification from the watched copy, a revocation and a new key reaching a second
 * verifier on another connection within one second, expiry and grace periods on a hand-moved clock,
 * rotation and its conflicts, damaged entries failing closed, a closed connection failing closed, and
 * the bootstrap key with and without MESHGATE_API_KEY.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  ApiKeyConflict,
  ApiKeyStore,
  ApiKeyVerifier,
  BootstrapKeyError,
  ensureBootstrapKey,
  generateApiKey,
  InvalidApiKeyInput,
  type NewApiKey,
} from '../src/index';
import { connectNats, destroyBuckets, ManualClock, uniqueBucket, within } from './nats-fixture';

let nc: NatsConnection;
let other: NatsConnection;
const verifiers: ApiKeyVerifier[] = [];

beforeAll(async () => {
  nc = await connectNats('auth-test');
  other = await connectNats('auth-test-other');
});
afterEach(async () => {
  for (const v of verifiers.splice(0)) await v.stop();
});
afterAll(async () => {
  await destroyBuckets(nc);
  await other.drain();
  await nc.drain();
});

const agent: NewApiKey = { tenant: 'acme', principal: 'bot-1', kind: 'agent', roles: ['agent'] };

/** A fresh bucket and its store, on the real clock unless a test brings its own. */
async function setup(clock?: ManualClock) {
  const bucket = uniqueBucket();
  const store = await ApiKeyStore.open(nc, { bucket, ...(clock ? { now: clock.now } : {}) });
  return { bucket, store };
}
async function verifier(bucket: string, conn = nc, clock?: ManualClock, onCorrupt?: (k: string) => void) {
  const v = await ApiKeyVerifier.start(conn, {
    bucket,
    ...(clock ? { now: clock.now } : {}),
    ...(onCorrupt ? { onCorrupt } : {}),
  });
  verifiers.push(v);
  return v;
}

describe('ApiKeyStore', () => {
  it('issues keys, keeps only the digest, reads and lists them by tenant, oldest first', async () => {
    const clock = new ManualClock();
    const { bucket, store } = await setup(clock);
    const first = await store.create({ ...agent, groups: ['ops'], description: 'CI bot' });
    clock.advance(1000);
    const second = await store.create({ ...agent, principal: 'bot-2' });
    await store.create({ ...agent, tenant: 'globex' });
    expect(first.record).toMatchObject({
      v: 1,
      tenant: 'acme',
      principal: 'bot-1',
      kind: 'agent',
      roles: ['agent'],
      groups: ['ops'],
      description: 'CI bot',
      createdAt: '2026-11-24T10:00:00.000Z',
    });
    expect(await store.get(first.record.keyId)).toEqual({ record: first.record, revision: first.revision });
    expect((await store.list({ tenant: 'acme' })).map((r) => r.keyId)).toEqual([
      first.record.keyId,
      second.record.keyId,
    ]);
    expect(await store.list()).toHaveLength(3);
    expect(await store.get('not-a-key-id')).toBeNull();
    expect(await store.get('0000000000000000')).toBeNull();

    const kv = await new Kvm(nc).open(bucket);
    const status = await kv.status();
    expect(status.history).toBe(1);
    expect(status.storage).toBe(StorageType.File);
    const raw = (await kv.get(first.record.keyId))!.string();
    const secret = first.apiKey.slice(21);
    expect(raw).not.toContain(secret);
    expect(raw).toContain(first.record.hash);
  });

  it('validates its input before writing anything', async () => {
    const { store } = await setup();
    const bad: unknown[] = [
      { ...agent, tenant: 'Acme' },
      { ...agent, principal: 'bоt' },
      { ...agent, roles: [] },
      { ...agent, roles: ['root'] },
      { ...agent, extra: true },
      { ...agent, expiresAt: 'tomorrow' },
    ];
    for (const input of bad)
      await expect(store.create(input as NewApiKey), JSON.stringify(input)).rejects.toThrow(
        InvalidApiKeyInput,
      );
    await expect(store.add('mgk_short', agent)).rejects.toThrow(InvalidApiKeyInput);
    await expect(store.rotate('0000000000000000', { graceSeconds: -1 })).rejects.toThrow(InvalidApiKeyInput);
    expect(await store.list()).toEqual([]);
  });

  it('revokes idempotently, never later than a first revocation, and under concurrent writers', async () => {
    const clock = new ManualClock();
    const { store } = await setup(clock);
    const key = await store.create(agent);
    const [a, b] = await Promise.all([
      store.revoke(key.record.keyId, { atMs: clock.ms + 60_000 }),
      store.revoke(key.record.keyId, { atMs: clock.ms + 30_000 }),
    ]);
    expect([a?.record.revokedAt, b?.record.revokedAt]).toContain(new Date(clock.ms + 30_000).toISOString());
    expect((await store.get(key.record.keyId))?.record.revokedAt).toBe(
      new Date(clock.ms + 30_000).toISOString(),
    );
    const now = await store.revoke(key.record.keyId);
    expect(now?.record.revokedAt).toBe(new Date(clock.ms).toISOString());
    const again = await store.revoke(key.record.keyId, { atMs: clock.ms + 5 });
    expect(again?.revision).toBe(now?.revision);
    expect(await store.revoke('0000000000000000')).toBeNull();
  });
});

describe('ApiKeyVerifier', () => {
  it('verifies the keys present at start, and refuses wrong secrets, unknown ids and malformed text', async () => {
    const { bucket, store } = await setup();
    const key = await store.create({ ...agent, groups: ['ops'] });
    const v = await verifier(bucket);
    expect(v.healthy()).toBe(true);
    expect(v.size).toBe(1);
    expect(v.verify(key.apiKey)).toEqual({
      ok: true,
      keyId: key.record.keyId,
      scheme: 'api-key',
      principal: { tenant: 'acme', id: 'bot-1', kind: 'agent', roles: ['agent'], groups: ['ops'] },
    });
    const forged = `${key.apiKey.slice(0, 21)}${generateApiKey().secret}`;
    expect(v.verify(forged)).toEqual({ ok: false, reason: 'unknown' });
    expect(v.verify(generateApiKey().apiKey)).toEqual({ ok: false, reason: 'unknown' });
    expect(v.verify(`${key.apiKey} `)).toEqual({ ok: false, reason: 'malformed' });
    expect(v.verify('')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('answers a key seen before from memory, until anything about the key changes', async () => {
    const clock = new ManualClock();
    const { bucket, store } = await setup(clock);
    const v = await verifier(bucket, nc, clock);
    const key = await store.create(agent);
    v.observe(key);
    const first = v.verify(key.apiKey);
    expect(first.ok).toBe(true);
    // The same shared answer: nothing is parsed, hashed or allocated for a key seen before.
    expect(v.verify(key.apiKey)).toBe(first);
    // Another secret under the same key id is not the remembered text: it is checked, and refused.
    expect(v.verify(`${key.apiKey.slice(0, 21)}${generateApiKey().secret}`)).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(v.verify(key.apiKey)).toBe(first);
    const revoked = await store.revoke(key.record.keyId, { atMs: clock.ms + 1000 });
    v.observe(revoked!);
    expect(v.verify(key.apiKey).ok).toBe(true);
    clock.advance(1000);
    expect(v.verify(key.apiKey)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('starts on an empty bucket, then learns new keys and revocations made on another connection within 1 s', async () => {
    const { bucket, store } = await setup();
    const far = await verifier(bucket, other);
    expect(far.size).toBe(0);
    const key = await store.create(agent);
    await within(1000, 'the new key on the other connection', () => far.verify(key.apiKey).ok);
    await store.revoke(key.record.keyId);
    await within(1000, 'the revocation on the other connection', () => {
      const result = far.verify(key.apiKey);
      return !result.ok && result.reason === 'revoked';
    });
  });

  it('refuses a key once it expires, and a rotated key once its grace period ends', async () => {
    const clock = new ManualClock();
    const { bucket, store } = await setup(clock);
    const v = await verifier(bucket, nc, clock);
    const key = await store.create({ ...agent, expiresAt: new Date(clock.ms + 86_400_000).toISOString() });
    v.observe(key);
    expect(v.verify(key.apiKey).ok).toBe(true);
    clock.advance(86_400_000);
    expect(v.verify(key.apiKey)).toEqual({ ok: false, reason: 'expired' });

    const old = await store.create({
      ...agent,
      roles: ['agent', 'auditor'],
      groups: ['g'],
      description: 'd',
    });
    const rotated = (await store.rotate(old.record.keyId, { graceSeconds: 60 }))!;
    v.observe(rotated.issued);
    v.observe(rotated.replaced);
    expect(rotated.issued.record).toMatchObject({
      tenant: 'acme',
      principal: 'bot-1',
      roles: ['agent', 'auditor'],
      groups: ['g'],
      description: 'd',
      rotatedFrom: old.record.keyId,
    });
    expect(rotated.issued.record.expiresAt).toBeUndefined();
    expect(rotated.replaced.record.revokedAt).toBe(new Date(clock.ms + 60_000).toISOString());
    expect(v.verify(old.apiKey).ok).toBe(true);
    expect(v.verify(rotated.issued.apiKey).ok).toBe(true);
    clock.advance(60_000);
    expect(v.verify(old.apiKey)).toEqual({ ok: false, reason: 'revoked' });
    expect(v.verify(rotated.issued.apiKey).ok).toBe(true);
  });

  it('ignores what it already knows a newer revision of', async () => {
    const { bucket, store } = await setup();
    const v = await verifier(bucket);
    const key = await store.create(agent);
    const revoked = (await store.revoke(key.record.keyId))!;
    v.observe(revoked);
    v.observe(key);
    expect(v.verify(key.apiKey)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('treats damaged and deleted entries as unknown keys, and reports them', async () => {
    const { bucket, store } = await setup();
    const key = await store.create(agent);
    const kept = await store.create({ ...agent, principal: 'bot-2' });
    const corrupt: string[] = [];
    const v = await verifier(bucket, nc, undefined, (k) => corrupt.push(k));
    const kv = await new Kvm(nc).open(bucket);
    const forged = { ...key.record, roles: ['platform-admin'], keyId: kept.record.keyId };
    await kv.put(key.record.keyId, JSON.stringify(forged));
    await kv.put('0123456789abcdef', 'not json');
    await within(1000, 'the damaged entries to be seen', () => corrupt.length === 2);
    expect(corrupt.sort()).toEqual(['0123456789abcdef', key.record.keyId].sort());
    expect(v.verify(key.apiKey)).toEqual({ ok: false, reason: 'unknown' });
    expect(await store.get(key.record.keyId)).toBeNull();
    await kv.delete(kept.record.keyId);
    await within(1000, 'the deletion to be seen', () => !v.verify(kept.apiKey).ok);
    expect(v.verify(kept.apiKey)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses every key as unavailable once its connection closes or it is stopped', async () => {
    const { bucket, store } = await setup();
    const key = await store.create(agent);
    const own = await connectNats('auth-test-closing');
    const v = await verifier(bucket, own);
    expect(v.verify(key.apiKey).ok).toBe(true);
    await own.close();
    await within(1000, 'the closed watch to be noticed', () => !v.healthy());
    expect(v.verify(key.apiKey)).toEqual({ ok: false, reason: 'unavailable' });
    const stopped = await verifier(bucket);
    await stopped.stop();
    expect(stopped.verify(key.apiKey)).toEqual({ ok: false, reason: 'unavailable' });
  });
});

describe('ApiKeyStore.rotate', () => {
  it('keeps the lifetime, refuses keys that were rotated, revoked or expired, and misses unknown ones', async () => {
    const clock = new ManualClock();
    const { store } = await setup(clock);
    const day = 86_400_000;
    const key = await store.create({ ...agent, expiresAt: new Date(clock.ms + 10 * day).toISOString() });
    clock.advance(day);
    const rotated = (await store.rotate(key.record.keyId))!;
    expect(rotated.issued.record.expiresAt).toBe(new Date(clock.ms + 10 * day).toISOString());
    expect(rotated.replaced.record.revokedAt).toBe(new Date(clock.ms).toISOString());
    await expect(store.rotate(key.record.keyId)).rejects.toThrow(ApiKeyConflict);

    const graced = await store.create(agent);
    await store.rotate(graced.record.keyId, { graceSeconds: 300, expiresInDays: 2 });
    await expect(store.rotate(graced.record.keyId)).rejects.toThrow('was already rotated or revoked');

    const expiring = await store.create({ ...agent, expiresAt: new Date(clock.ms + 1).toISOString() });
    clock.advance(1);
    await expect(store.rotate(expiring.record.keyId)).rejects.toThrow('is expired');
    expect(await store.rotate('0000000000000000')).toBeNull();
  });
});

describe('ensureBootstrapKey', () => {
  it('creates one platform-admin key in tenant default when none is active, and only then', async () => {
    const { bucket, store } = await setup();
    const made = await ensureBootstrapKey(store);
    expect(made.action).toBe('created');
    if (made.action !== 'created') return;
    const v = await verifier(bucket);
    expect(v.verify(made.apiKey)).toMatchObject({
      ok: true,
      keyId: made.keyId,
      principal: { tenant: 'default', id: 'admin', roles: ['platform-admin'] },
    });
    expect(await ensureBootstrapKey(store)).toEqual({ action: 'existing' });
    await store.revoke(made.keyId);
    expect((await ensureBootstrapKey(store)).action).toBe('created');
  });

  it('records the key of MESHGATE_API_KEY once, and refuses one it cannot honour', async () => {
    const { bucket, store } = await setup();
    const chosen = generateApiKey();
    expect(await ensureBootstrapKey(store, { apiKey: chosen.apiKey })).toEqual({
      action: 'recorded',
      keyId: chosen.keyId,
    });
    expect(await ensureBootstrapKey(store, { apiKey: chosen.apiKey })).toEqual({
      action: 'present',
      keyId: chosen.keyId,
    });
    const v = await verifier(bucket);
    expect(v.verify(chosen.apiKey)).toMatchObject({ ok: true, principal: { roles: ['platform-admin'] } });

    const sameId = `${chosen.apiKey.slice(0, 21)}${generateApiKey().secret}`;
    await expect(ensureBootstrapKey(store, { apiKey: sameId })).rejects.toThrow(
      `MESHGATE_API_KEY has the id of key ${chosen.keyId} but not its secret`,
    );
    await expect(ensureBootstrapKey(store, { apiKey: 'hunter2' })).rejects.toThrow(BootstrapKeyError);
    await expect(ensureBootstrapKey(store, { apiKey: 'hunter2' })).rejects.not.toThrow('hunter2');
    const agentKey = await store.create(agent);
    await expect(ensureBootstrapKey(store, { apiKey: agentKey.apiKey })).rejects.toThrow(
      'is not a platform-admin key',
    );
    await store.revoke(chosen.keyId);
    await expect(ensureBootstrapKey(store, { apiKey: chosen.apiKey })).rejects.toThrow('is revoked');
  });
});
