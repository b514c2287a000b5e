/**
 * The hash chain of a tenant's trail (ADR 003), pure: `hash = sha256_hex(prevHash || canonical(event))`
 * where canonical is RFC 8785 JSON and the first event's prevHash is 64 zeros. A changed event breaks its own
 * hash; a removed or inserted one breaks the prevHash of the record after it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@meshgate/audit';
import type { AuditEvent } from '@meshgate/contracts';
import type { ChainHead, ChainLink } from '@meshgate/store';

/** The prevHash of the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical forms of the events this process has read, so that checking an event (event-message.ts)
 * and hashing it write it once. Events are never changed after they are read.
 */
const written = new WeakMap<object, string>();

/** RFC 8785 canonical JSON of a value that must be JSON; throws for one that has none (a lone surrogate). */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return canonicalJson(value);
  let text = written.get(value);
  if (text === undefined) written.set(value, (text = canonicalJson(value)));
  return text;
}

/** The chain hash of `event` after `prevHash`. */
export function linkHash(prevHash: string, event: AuditEvent): string {
  return createHash('sha256').update(prevHash).update(canonical(event)).digest('hex');
}

/** The link of `event` appended after `head` (null: the chain is empty). */
export function nextLink(head: Pick<ChainHead, 'seq' | 'hash'> | null, event: AuditEvent): ChainLink {
  const prevHash = head ? head.hash : GENESIS_HASH;
  return { seq: head ? head.seq + 1 : 1, prevHash, hash: linkHash(prevHash, event) };
}

/** True when `link.hash` is the hash of `event` after `link.prevHash`. */
export function linkHolds(event: AuditEvent, link: ChainLink): boolean {
  return linkHash(link.prevHash, event) === link.hash;
}
