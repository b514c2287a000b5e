/**
 * Archives one valid event with its chain link (ADR 003), over the AuditArchive port only. An archiver
 * claims the next seq by moving the tenant's head with compare-and-set, then writes the record; the loser
 * of a race re-reads the head and retries. A head whose record is not written yet is a claim in progress:
 * the next claim waits for it, and a redelivered event that finds its own claim completes it, so a replica
 * that dies between claim and write leaves no gap once its message is redelivered.
 */
import type { AuditEvent } from '@meshgate/contracts';
import { HeadConflict, type AuditArchive, type ChainLink } from '@meshgate/store';
import { canonical, linkHolds, nextLink } from './chain';

/** What became of an event: written now, already archived, or blocked behind another replica's claim. */
export type ArchiveOutcome =
  | { status: 'archived'; link: ChainLink }
  | { status: 'duplicate' }
  | { status: 'conflict'; reason: string }
  | { status: 'waiting' };

export interface ArchiveOptions {
  /** Attempts before giving up with `waiting` (the caller redelivers later). */
  maxAttempts?: number;
  /** Pause between attempts blocked by a claim in progress, in ms. */
  waitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Archives `event` once; safe to call again for the same event, from any replica. */
export async function archiveEvent(
  archive: AuditArchive,
  event: AuditEvent,
  opts: ArchiveOptions = {},
): Promise<ArchiveOutcome> {
  const maxAttempts = opts.maxAttempts ?? 200;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const known = await archive.getById(event.id);
    if (known) return sameEvent(known.event, event) ? { status: 'duplicate' } : idConflict(event);
    const head = await archive.head(event.tenant);
    if (head?.eventId === event.id) {
      const link = { seq: head.seq, prevHash: head.prevHash, hash: head.hash };
      if (!linkHolds(event, link)) return idConflict(event);
      const written = await archive.append(event, link);
      return written.created ? { status: 'archived', link } : { status: 'duplicate' };
    }
    if (head && !(await archive.getById(head.eventId))) {
      await sleep(opts.waitMs ?? 5);
      continue;
    }
    const link = nextLink(head, event);
    try {
      await archive.setHead(event.tenant, { ...link, eventId: event.id }, head?.revision ?? 0);
    } catch (err) {
      if (err instanceof HeadConflict) continue;
      throw err;
    }
    await archive.append(event, link);
    return { status: 'archived', link };
  }
  return { status: 'waiting' };
}

function sameEvent(a: AuditEvent, b: AuditEvent): boolean {
  return canonical(a) === canonical(b);
}

function idConflict(event: AuditEvent): ArchiveOutcome {
  return { status: 'conflict', reason: `event id ${event.id} is already archived with other content` };
}
