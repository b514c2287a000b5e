/**
 * The KV bucket of API keys (`mg_api_keys`, history 1, file storage): opening it, and reading and writing
 * one entry. The key of an entry is the key id, its value the JSON of an `ApiKeyRecord` (schema version 1).
 * An entry that does not decode, or whose record names another key id, is reported and treated as absent:
 * a damaged record never authenticates anyone.
 */
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { jetstream, JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ApiKeyRecord, Buckets } from '@meshgate/contracts';

/** Told about every entry that cannot be read. */
export type OnCorrupt = (key: string, reason: string) => void;

/** Binds to the bucket `name` (default `mg_api_keys`), creating it when it is missing. */
export async function openKeyBucket(nc: NatsConnection, name: string = Buckets.apiKeys): Promise<KV> {
  return new Kvm(jetstream(nc)).create(name, { history: 1, storage: StorageType.File });
}

/** The bytes stored for `record`. */
export function encodeKeyRecord(record: ApiKeyRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}

/** The record of a PUT entry, or the reason it cannot be one. */
export function decodeKeyEntry(
  entry: Pick<KvEntry, 'key' | 'value'>,
): { ok: true; record: ApiKeyRecord } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entry.value));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = ApiKeyRecord.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `not an ApiKeyRecord v1 (${issue?.path.join('.') ?? ''}: ${issue?.message})`,
    };
  }
  if (parsed.data.keyId !== entry.key) return { ok: false, reason: 'the record names another key id' };
  return { ok: true, record: parsed.data };
}

/** True when a KV write lost a compare-and-set (the entry changed, or exists, meanwhile). */
export function isRevisionConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
