/**
 * The hash chain of a tenant's trail (ADR 003), pure: `hash = sha256_hex(prevHash || canonical(event))`
 * where canonical is RFC 8785 JSON and the first event's prevHash is 64 zeros. A changed event breaks its own
 * hash; a removed or inserted one breaks the prevHash of the record after it.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditEvent } from '@meshgate/contracts';
import type { ChainHead, ChainLink } from '@meshgate/store';

/** The prevHash of the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** RFC 8785 canonical JSON of a value that must be JSON (an audit event always is). */
export function canonical(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value has no canonical JSON form');
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
