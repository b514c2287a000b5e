/**
 * The durable form of one catalogue entry and its codec, free of any I/O. The value holds a schema-versioned
 * ServerRecord without its revision: the store assigns the revision on write (a KV revision is the stream
 * sequence, unknown before the write), so it is taken from the entry on read and never stored twice.
 */
import type { z } from 'zod';
import { ServerDefinition, ServerRecord } from '@meshgate/contracts';
import { InvalidServerDefinition } from './server-catalogue';

/** The stored value of one catalogue entry (`v: 1`). */
export const StoredServer = ServerRecord.omit({ revision: true });
export type StoredServer = z.infer<typeof StoredServer>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Validates `definition` and encodes the value to store for it, stamped with `now`. */
export function encodeServerEntry(definition: ServerDefinition, now: Date): Uint8Array {
  const parsed = ServerDefinition.safeParse(definition);
  if (!parsed.success) throw new InvalidServerDefinition(describeIssues(parsed.error));
  const value: StoredServer = { v: 1, definition: parsed.data, updatedAt: now.toISOString() };
  return encoder.encode(JSON.stringify(value));
}

/** The outcome of reading one stored value: a record, or the reason it cannot be read. */
export type DecodedEntry = { ok: true; record: ServerRecord } | { ok: false; reason: string };

/**
 * Decodes the value stored under `key` at `revision`. A value that is not UTF-8 JSON, breaks the schema,
 * has another schema version, or names another server than its key is reported, never thrown.
 */
export function decodeServerEntry(key: string, value: Uint8Array, revision: number): DecodedEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(value));
  } catch {
    return { ok: false, reason: 'value is not UTF-8 JSON' };
  }
  const parsed = StoredServer.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error).join('; ') };
  if (parsed.data.definition.name !== key)
    return { ok: false, reason: `value names server "${parsed.data.definition.name}", not its key` };
  return { ok: true, record: { ...parsed.data, revision } };
}

/** One line per zod issue: `path: message`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`);
}
