/**
 * Isolation for limiter tests on the shared test NATS: connections (one per simulated replica), limits
 * buckets with unique names and a small max_bytes, destroyed afterwards; limiters stopped after each
 * test; a clock that moves only when told; and polling for what other replicas do asynchronously.
 */
import { randomBytes } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { z } from 'zod';
import type { LimitsConfig } from '@meshgate/contracts';
import { Limiter, type Admission, type LimiterOptions } from '../../src/limits/index';

export const natsUrl = () => process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** A connection to the shared test NATS. */
export function connectNats(name: string): Promise<NatsConnection> {
  return connect({ servers: natsUrl(), name });
}

const buckets: string[] = [];
const limiters: Limiter[] = [];

/** A fresh bucket name, destroyed by `cleanUp`. */
export function uniqueBucket(): string {
  const bucket = `mg_test_limits_${randomBytes(5).toString('hex')}`;
  buckets.push(bucket);
  return bucket;
}

/** A limiter on `bucket` with `rules` in force, stopped by `cleanUp`. */
export async function startLimiter(
  nc: NatsConnection,
  bucket: string,
  config: z.input<typeof LimitsConfig> | null,
  opts: Partial<LimiterOptions> = {},
): Promise<Limiter> {
  const limiter = await Limiter.start(nc, {
    bucket,
    instance: `replica-${randomBytes(3).toString('hex')}`,
    maxBytes: 1024 * 1024,
    ...opts,
  });
  limiters.push(limiter);
  if (config) limiter.configure(config);
  return limiter;
}

/** Stops every limiter started here, then destroys every bucket handed out. */
export async function cleanUp(nc: NatsConnection): Promise<void> {
  for (const limiter of limiters.splice(0)) await limiter.stop();
  const kvm = new Kvm(nc);
  for (const b of buckets.splice(0)) await (await kvm.open(b)).destroy().catch(() => false);
}

/** The bucket `name` as a test reads it. */
export function openBucket(nc: NatsConnection, name: string): Promise<KV> {
  return new Kvm(nc).open(name);
}

/** Every key of `kv`. */
export async function keysOf(kv: KV): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of await kv.keys()) keys.push(key);
  return keys;
}

/** Runs `n` admissions of `call` one after another and counts the admitted ones. */
export async function admitMany(limiter: Limiter, call: Parameters<Limiter['admit']>[0], n: number) {
  const answers: Admission[] = [];
  for (let i = 0; i < n; i++) answers.push(await limiter.admit(call));
  return { admitted: answers.filter((a) => a.ok).length, answers };
}

/** A clock that only moves when told. */
export class ManualClock {
  constructor(public ms = Date.parse('2026-11-24T10:00:00.000Z')) {}
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Polls `check` every 10 ms until it holds; fails after `withinMs`. */
export async function within(withinMs: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const end = performance.now() + withinMs;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
