/**
 * The KV bucket of limit state (`mg_limits`): opening it, and the compare-and-set loop every counter
 * writes through. JetStream 2.9 has neither atomic counters nor per-message TTLs, so a counter is one key
 * whose JSON value is read, changed and written back only if its revision is unchanged (retried on a
 * conflict). The bucket's max_age (2 days) outlives the longest span any counter looks back on (a
 * requests window of 86 400 s counted over 11 slots is 1.1 days; a daily quota, its UTC day): a key
 * nobody wrote for that long holds nothing that still counts, and JetStream drops it.
 */
import { Kvm, type KV } from '@nats-io/kv';
import { jetstream, JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { z } from 'zod';
import { Buckets } from '@meshgate/contracts';
import { DayMs } from './window-math';

/** How long a key lives after its last write. */
export const LimitsBucketMaxAgeMs = 2 * DayMs;
const MaxCasAttempts = 30;

/** Binds to the limits bucket, creating it when it is missing (an existing bucket keeps its settings). */
export async function openLimitsBucket(
  nc: NatsConnection,
  opts: { bucket?: string; maxBytes?: number; timeoutMs: number },
): Promise<KV> {
  return new Kvm(jetstream(nc, { timeout: opts.timeoutMs })).create(opts.bucket ?? Buckets.limits, {
    history: 1,
    ttl: LimitsBucketMaxAgeMs,
    storage: StorageType.File,
    max_bytes: opts.maxBytes ?? -1,
  });
}

/** A counter value as last read or written: revision 0 when the key holds nothing. */
export interface Versioned<T> {
  revision: number;
  value: T | null;
  /** True when the key held bytes that are not a value of the schema. */
  unreadable: boolean;
}

/** A plan's answer: the value to write (null: nothing to write) and what to tell the caller. */
export interface Planned<T, R> {
  write: T | null;
  result: R;
}

/** The compare-and-set kept losing to other writers. */
export class LimitStateContention extends Error {
  constructor(key: string) {
    super(`limit state ${key} changed under ${MaxCasAttempts} attempts in a row`);
    this.name = 'LimitStateContention';
  }
}

/**
 * Runs `plan` on the counter's current value and writes its result if the value did not change meanwhile,
 * retrying on a conflict. A `known` value (the last this replica wrote) saves the first read; a plan that
 * writes nothing is always confirmed on a fresh read. Resolves with the plan's result and the value now
 * stored; rejects when NATS cannot be reached or the contention persists.
 */
export async function compareAndSet<T, R>(
  kv: KV,
  key: string,
  schema: z.ZodType<T>,
  known: Versioned<T> | null,
  plan: (current: Versioned<T>) => Planned<T, R>,
): Promise<{ result: R; stored: Versioned<T> }> {
  let current = known;
  for (let attempt = 0; attempt < MaxCasAttempts; attempt++) {
    let fresh = false;
    if (current === null) {
      current = await read(kv, key, schema);
      fresh = true;
    }
    const planned = plan(current);
    if (planned.write === null) {
      if (fresh) return { result: planned.result, stored: current };
      current = null;
      continue;
    }
    const bytes = new TextEncoder().encode(JSON.stringify(planned.write));
    try {
      const revision =
        current.revision === 0 ? await kv.create(key, bytes) : await kv.update(key, bytes, current.revision);
      return { result: planned.result, stored: { revision, value: planned.write, unreadable: false } };
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
      current = null;
      if (attempt >= 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * attempt));
    }
  }
  throw new LimitStateContention(key);
}

async function read<T>(kv: KV, key: string, schema: z.ZodType<T>): Promise<Versioned<T>> {
  const entry = await kv.get(key);
  if (entry === null) return { revision: 0, value: null, unreadable: false };
  if (entry.operation !== 'PUT') return { revision: entry.revision, value: null, unreadable: false };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entry.value));
  } catch {
    return { revision: entry.revision, value: null, unreadable: true };
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? { revision: entry.revision, value: parsed.data, unreadable: false }
    : { revision: entry.revision, value: null, unreadable: true };
}

/** True when a KV write lost a compare-and-set (the entry changed, or exists, meanwhile). */
export function isRevisionConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
