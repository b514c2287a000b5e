/**
 * The hash chain of a tenant's trail (ADR 003), pure: `hash = sha256_hex(prevHash || canonical(event))`
 * where canonical is RFC 8785 JSON and the first event's prevHash is 64 zeros. A changed event breaks its own
 * hash; a removed or inserted one breaks the prevHash of the record after it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@meshgate/audit';
import type { AuditEvent } from '@meshgate/contracts';
import type { ChainHead, ChainLink } from '@meshgate/store';
import type { ReadEvent } from './read-event';

/** The prevHash of the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical form of an event this process has read, kept on the event itself (a non-enumerable symbol
 * property: JSON, spreads and key listings do not see it), so that checking an event (event-message.ts)
 * and hashing it write it once. A WeakMap did the same at about ten times the cost per event, most of it in
 * the garbage collector. Events are never changed after they are read.
 */
const CANONICAL = Symbol('canonical JSON');

/** RFC 8785 canonical JSON of a value that must be JSON; throws for one that has none (a lone surrogate). */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return canonicalJson(value);
  const known = (value as { [CANONICAL]?: string })[CANONICAL];
  if (known !== undefined) return known;
  const text = canonicalJson(value);
  if (Object.isExtensible(value)) Object.defineProperty(value, CANONICAL, { value: text });
  return text;
}

/** The chain hash of `event` after `prevHash`; of a read event, its canonical text as it is (UTF-8). */
export function linkHash(prevHash: string, event: AuditEvent | ReadEvent): string {
  if ('json' in event) return createHash('sha256').update(prevHash).update(event.json).digest('hex');
  return createHash('sha256')
    .update(prevHash + canonical(event))
    .digest('hex');
}

/** The link of `event` appended after `head` (null: the chain is empty). */
export function nextLink(
  head: Pick<ChainHead, 'seq' | 'hash'> | null,
  event: AuditEvent | ReadEvent,
): ChainLink {
  const prevHash = head ? head.hash : GENESIS_HASH;
  return { seq: head ? head.seq + 1 : 1, prevHash, hash: linkHash(prevHash, event) };
}

/** True when `link.hash` is the hash of `event` after `link.prevHash`. */
export function linkHolds(event: AuditEvent | ReadEvent, link: ChainLink): boolean {
  return linkHash(link.prevHash, event) === link.hash;
}
