/**
 * Isolation on the shared test NATS: connections, and API key buckets with unique names that are
 * destroyed afterwards; plus a clock that tests move by hand (expiry and grace periods without waiting).
 */
import { randomBytes } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

export const natsUrl = () => process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** A connection to the shared test NATS. */
export function connectNats(name: string): Promise<NatsConnection> {
  return connect({ servers: natsUrl(), name });
}

/** Bucket names handed out by `uniqueBucket`, destroyed by `destroyBuckets`. */
const buckets: string[] = [];

export function uniqueBucket(): string {
  const bucket = `mg_test_api_keys_${randomBytes(5).toString('hex')}`;
  buckets.push(bucket);
  return bucket;
}

export async function destroyBuckets(nc: NatsConnection): Promise<void> {
  const kvm = new Kvm(nc);
  for (const b of buckets.splice(0)) await (await kvm.open(b)).destroy().catch(() => false);
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
export async function within(withinMs: number, what: string, check: () => boolean): Promise<void> {
  const end = performance.now() + withinMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
