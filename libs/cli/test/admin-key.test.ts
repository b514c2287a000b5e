/**
 * The admin key step of `meshgate start` on the shared test NATS (a key bucket of its own): the first run
 * creates a platform-admin key and hands its text to the banner, later runs say one exists, and
 * MESHGATE_API_KEY is recorded and then used; the key created works with the verifier of libs/auth.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { ApiKeyVerifier, generateApiKey } from '@meshgate/auth';
import { bootstrapAdminKey } from '../src/start/admin-key';

let nc: NatsConnection;
const buckets: string[] = [];
const bucket = () => {
  const name = `mg_test_api_keys_${randomBytes(5).toString('hex')}`;
  buckets.push(name);
  return name;
};

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
});
afterAll(async () => {
  for (const b of buckets) await (await new Kvm(nc).open(b)).destroy().catch(() => false);
  await nc?.drain();
});

describe('bootstrapAdminKey', () => {
  it('creates a platform-admin key on the first run only', async () => {
    const b = bucket();
    const first = await bootstrapAdminKey(nc, undefined, b);
    expect(first.kind).toBe('created');
    const verifier = await ApiKeyVerifier.start(nc, { bucket: b });
    try {
      expect(first.kind === 'created' && verifier.verify(first.apiKey)).toMatchObject({
        ok: true,
        principal: { tenant: 'default', roles: ['platform-admin'] },
      });
    } finally {
      await verifier.stop();
    }
    expect(await bootstrapAdminKey(nc, undefined, b)).toEqual({ kind: 'existing' });
  });

  it('records MESHGATE_API_KEY instead, and refuses another secret under its id', async () => {
    const b = bucket();
    const chosen = generateApiKey();
    expect(await bootstrapAdminKey(nc, chosen.apiKey, b)).toEqual({ kind: 'from-env' });
    expect(await bootstrapAdminKey(nc, chosen.apiKey, b)).toEqual({ kind: 'from-env' });
    expect(await bootstrapAdminKey(nc, undefined, b)).toEqual({ kind: 'existing' });
    const forged = `${chosen.apiKey.slice(0, 21)}${generateApiKey().secret}`;
    await expect(bootstrapAdminKey(nc, forged, b)).rejects.toThrow('but not its secret');
  });
});
