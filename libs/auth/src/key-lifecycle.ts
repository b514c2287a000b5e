/**
 * The life of a key as pure functions of its record and the clock: whether it works now, when a new key
 * expires, and the record of a rotation's successor. The store and the verifier share them, so that both
 * read a record the same way.
 */
import type { ApiKeyRecord } from '@meshgate/contracts';

/** Whether a key works at an instant. */
export type KeyStatus = 'active' | 'revoked' | 'expired';

const DayMs = 86_400_000;

/** The status of `record` at `nowMs`: revocation wins over expiry. */
export function keyStatus(record: Pick<ApiKeyRecord, 'expiresAt' | 'revokedAt'>, nowMs: number): KeyStatus {
  if (record.revokedAt !== undefined && Date.parse(record.revokedAt) <= nowMs) return 'revoked';
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= nowMs) return 'expired';
  return 'active';
}

/** The expiry of a key issued at `nowMs` to live `days` days; undefined: it does not expire. */
export function expiryAfter(nowMs: number, days: number | undefined): string | undefined {
  return days === undefined ? undefined : new Date(nowMs + days * DayMs).toISOString();
}

/**
 * The expiry of the key that replaces `old` at `nowMs`: `days` when given, else the old key's lifetime
 * counted from now (no expiry when the old key had none). A rotation renews a key; it does not shorten it.
 */
export function rotatedExpiry(
  old: Pick<ApiKeyRecord, 'createdAt' | 'expiresAt'>,
  nowMs: number,
  days: number | undefined,
): string | undefined {
  if (days !== undefined) return expiryAfter(nowMs, days);
  if (old.expiresAt === undefined) return undefined;
  const lifetime = Math.max(DayMs, Date.parse(old.expiresAt) - Date.parse(old.createdAt));
  return new Date(nowMs + lifetime).toISOString();
}

/**
 * The instant a revocation takes effect: `atMs`, unless the key is already revoked earlier (a revocation
 * never lengthens a key's life).
 */
export function revocationInstant(record: Pick<ApiKeyRecord, 'revokedAt'>, atMs: number): string {
  const at = new Date(atMs).toISOString();
  if (record.revokedAt === undefined) return at;
  return Date.parse(record.revokedAt) <= atMs ? record.revokedAt : at;
}
