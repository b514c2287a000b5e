/**
 * Principals' upstream tokens sealed in KV (a bucket per file): round trip, nothing in clear at rest, a
 * random IV per value, tampered ciphertext or tag refused, a value moved to another principal's or server's
 * entry refused (AAD), a wrong key refused, a previous key still opening old values after a rotation, the
 * key read from the environment, and invalid owners, servers and tokens refused without echoing the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  InvalidUpstreamTokenInput,
  SealedUpstreamToken,
  UpstreamTokenKeyError,
  UpstreamTokenKeyring,
  UpstreamTokenStore,
  UpstreamTokenUnreadable,
  upstreamTokenKey,
} from '../src/index';
import { connectNats } from './nats-fixture';

let nc: NatsConnection;
let kv: KV;
const bucket = `mg_test_upstream_tokens_${randomBytes(5).toString('hex')}`;
const key = randomBytes(32);
const ada = { tenant: 'acme', principal: 'ada@acme.example' };
const bob = { tenant: 'acme', principal: 'bob' };
const token = 'gho_ADA-secret-token.value';

beforeAll(async () => {
  nc = await connectNats('auth-upstream-tokens-test');
  await UpstreamTokenStore.open(nc, new UpstreamTokenKeyring(key), { bucket });
  kv = await new Kvm(nc).open(bucket);
});
afterAll(async () => {
  await kv.destroy();
  await nc.drain();
});

const storeWith = (keyring: UpstreamTokenKeyring) => UpstreamTokenStore.open(nc, keyring, { bucket });
const raw = async (k: string) => new TextDecoder().decode((await kv.get(k))?.value);

describe('UpstreamTokenStore', () => {
  it('stores a token sealed, reads it back and deletes it', async () => {
    const store = await storeWith(new UpstreamTokenKeyring(key));
    await store.put(ada, 'github', token);
    expect(await store.get(ada, 'github')).toBe(token);
    expect(await store.get(bob, 'github')).toBeNull();
    expect(await store.get(ada, 'gitlab')).toBeNull();
    const stored = await raw(upstreamTokenKey(ada, 'github'));
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(ada.principal);
    const sealed = SealedUpstreamToken.parse(JSON.parse(stored));
    expect(sealed.kid).toMatch(/^[0-9a-f]{16}$/);
    expect(await store.delete(ada, 'github')).toBe(true);
    expect(await store.get(ada, 'github')).toBeNull();
    expect(await store.delete(ada, 'github')).toBe(false);
  });

  it('keys entries by tenant, a digest of the principal and the server', () => {
    expect(upstreamTokenKey(ada, 'github')).toMatch(/^acme\.[0-9a-f]{32}\.github$/);
    expect(upstreamTokenKey(ada, 'github')).not.toBe(upstreamTokenKey(bob, 'github'));
  });

  it('seals every value with a fresh IV', () => {
    const ring = new UpstreamTokenKeyring(key);
    const a = ring.seal('k', token);
    const b = ring.seal('k', token);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
    expect(ring.open('k', a)).toBe(token);
  });

  it('refuses a tampered ciphertext or tag', async () => {
    const store = await storeWith(new UpstreamTokenKeyring(key));
    await store.put(ada, 'tampered', token);
    const k = upstreamTokenKey(ada, 'tampered');
    const sealed = SealedUpstreamToken.parse(JSON.parse(await raw(k)));
    const flipped = Buffer.from(sealed.ct, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await kv.put(k, JSON.stringify({ ...sealed, ct: flipped.toString('base64') }));
    await expect(store.get(ada, 'tampered')).rejects.toThrow(UpstreamTokenUnreadable);
    const tag = Buffer.from(sealed.tag, 'base64');
    tag[15] = (tag[15] ?? 0) ^ 0x80;
    await kv.put(k, JSON.stringify({ ...sealed, tag: tag.toString('base64') }));
    await expect(store.get(ada, 'tampered')).rejects.toThrow(/does not authenticate/);
    await kv.put(k, 'not json');
    await expect(store.get(ada, 'tampered')).rejects.toThrow(UpstreamTokenUnreadable);
  });

  it('refuses a value moved to another principal or server (AAD is the entry key)', async () => {
    const store = await storeWith(new UpstreamTokenKeyring(key));
    await store.put(ada, 'moved', token);
    const value = await raw(upstreamTokenKey(ada, 'moved'));
    await kv.put(upstreamTokenKey(bob, 'moved'), value);
    await kv.put(upstreamTokenKey(ada, 'moved-too'), value);
    await expect(store.get(bob, 'moved')).rejects.toThrow(UpstreamTokenUnreadable);
    await expect(store.get(ada, 'moved-too')).rejects.toThrow(UpstreamTokenUnreadable);
    expect(await store.get(ada, 'moved')).toBe(token);
  });

  it('refuses a wrong key and opens values of a previous key after a rotation', async () => {
    const store = await storeWith(new UpstreamTokenKeyring(key));
    await store.put(ada, 'rotated', token);
    const other = randomBytes(32);
    const wrong = await storeWith(new UpstreamTokenKeyring(other));
    await expect(wrong.get(ada, 'rotated')).rejects.toThrow(/not configured/);
    const rotated = await storeWith(new UpstreamTokenKeyring(other, [key]));
    expect(await rotated.get(ada, 'rotated')).toBe(token);
    await rotated.put(ada, 'rotated', token);
    const sealed = SealedUpstreamToken.parse(JSON.parse(await raw(upstreamTokenKey(ada, 'rotated'))));
    expect(sealed.kid).toBe(new UpstreamTokenKeyring(other).currentId);
    await expect(store.get(ada, 'rotated')).rejects.toThrow(UpstreamTokenUnreadable);
    // Same fingerprint, other key: GCM still refuses.
    const forged = { ...sealed, kid: new UpstreamTokenKeyring(key).currentId };
    await kv.put(upstreamTokenKey(ada, 'rotated'), JSON.stringify(forged));
    await expect(store.get(ada, 'rotated')).rejects.toThrow(/does not authenticate/);
  });

  it('refuses invalid owners, servers and tokens without echoing the token', async () => {
    const store = await storeWith(new UpstreamTokenKeyring(key));
    await expect(store.put({ tenant: 'Acme', principal: 'ada' }, 'github', token)).rejects.toThrow(
      InvalidUpstreamTokenInput,
    );
    await expect(store.get(ada, 'no.dots')).rejects.toThrow(InvalidUpstreamTokenInput);
    const bad = 'has space secret';
    const err = await store.put(ada, 'github', bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidUpstreamTokenInput);
    expect(String(err)).not.toContain(bad);
  });
});

describe('UpstreamTokenKeyring.fromEnv', () => {
  it('reads the current and previous keys and refuses missing or malformed ones', () => {
    const previous = randomBytes(32);
    const ring = UpstreamTokenKeyring.fromEnv({
      MESHGATE_UPSTREAM_TOKEN_KEY: key.toString('base64'),
      MESHGATE_UPSTREAM_TOKEN_PREVIOUS_KEYS: ` ${previous.toString('base64')} `,
    });
    expect(ring.currentId).toBe(new UpstreamTokenKeyring(key).currentId);
    expect(ring.open('k', new UpstreamTokenKeyring(previous).seal('k', token))).toBe(token);
    expect(() => UpstreamTokenKeyring.fromEnv({})).toThrow(/MESHGATE_UPSTREAM_TOKEN_KEY is not set/);
    const short = randomBytes(16).toString('base64');
    expect(() => UpstreamTokenKeyring.fromEnv({ MESHGATE_UPSTREAM_TOKEN_KEY: short })).toThrow(
      UpstreamTokenKeyError,
    );
    expect(() => UpstreamTokenKeyring.fromEnv({ MESHGATE_UPSTREAM_TOKEN_KEY: 'not base64!' })).toThrow(
      /not base64/,
    );
  });
});
