/**
 * Isolation on the shared test NATS: policy and key buckets, and decide and heartbeat subjects, with
 * unique names (a policy replica answers in the shared `policy` queue group, so on the default subject
 * it would answer other projects' tests); API keys of each role the tests need; cleanup afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { ApiKeyStore, type NewApiKey } from '@meshgate/auth';
import { subject } from '@meshgate/contracts';
import { loadConfig, type PolicyConfig } from '../src/index';

export const natsUrl = () => process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** A connection to the shared test NATS. */
export function connectNats(name: string): Promise<NatsConnection> {
  return connect({ servers: natsUrl(), name });
}

/** Names of one isolated test. */
export interface Isolated {
  id: string;
  bucket: string;
  keysBucket: string;
  subjects: { decide: string; heartbeat: string };
}

export function isolate(): Isolated {
  const id = randomBytes(5).toString('hex');
  return {
    id,
    bucket: `mg_test_policies_${id}`,
    keysBucket: `mg_test_api_keys_${id}`,
    subjects: {
      decide: subject('test', id, 'policy', 'decide'),
      heartbeat: subject('test', id, 'policy', 'heartbeat'),
    },
  };
}

/** The configuration of a replica on `iso`, from an environment like the real one. */
export function configFor(iso: Isolated, env: Record<string, string> = {}, decide?: string): PolicyConfig {
  const config = loadConfig({ NATS_URL: natsUrl(), LOG_LEVEL: 'silent', MESHGATE_POLICY_PORT: '0', ...env });
  return {
    ...config,
    bucket: iso.bucket,
    auth: { ...config.auth, keysBucket: iso.keysBucket },
    subjects: { ...iso.subjects, ...(decide !== undefined ? { decide } : {}) },
  };
}

/** Destroys the buckets of `iso`. */
export async function cleanup(nc: NatsConnection, iso: Isolated): Promise<void> {
  const kvm = new Kvm(nc);
  for (const b of [iso.bucket, iso.keysBucket]) await (await kvm.open(b)).destroy().catch(() => false);
}

/** Authorization headers of the principals the tests act as. */
export interface Keys {
  platformAdmin: string;
  acmeAdmin: string;
  acmeAgent: string;
  globexAdmin: string;
}

/** Issues one key of each principal in the keys bucket of `iso`. */
export async function issueKeys(nc: NatsConnection, iso: Isolated): Promise<Keys> {
  const store = await ApiKeyStore.open(nc, { bucket: iso.keysBucket });
  const bearer = async (key: NewApiKey) => `Bearer ${(await store.create(key)).apiKey}`;
  return {
    platformAdmin: await bearer({
      tenant: 'default',
      principal: 'root',
      kind: 'user',
      roles: ['platform-admin'],
    }),
    acmeAdmin: await bearer({ tenant: 'acme', principal: 'alice', kind: 'user', roles: ['admin'] }),
    acmeAgent: await bearer({ tenant: 'acme', principal: 'bot', kind: 'agent', roles: ['agent'] }),
    globexAdmin: await bearer({ tenant: 'globex', principal: 'gina', kind: 'user', roles: ['admin'] }),
  };
}

/** Polls `check` every 20 ms until it holds; fails after `withinMs`. */
export async function within(
  withinMs: number,
  what: string,
  check: () => Promise<boolean> | boolean,
): Promise<void> {
  const end = performance.now() + withinMs;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
