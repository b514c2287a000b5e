/**
 * Archives valid events with their chain links (ADR 003), over the AuditArchive port only, a batch of one
 * tenant's events at a time. An archiver claims the next seqs by moving the tenant's head with one
 * compare-and-set naming every claimed link, then writes the records; the loser of a race re-reads the head
 * and retries. A head whose claimed records are not all written is a claim in progress: the next claim waits
 * for it, and a redelivered event that finds its own link among the claimed completes it, so a replica that
 * dies between claim and write leaves no gap once its messages are redelivered.
 *
 * The archiver remembers the head it last moved per tenant: while it is the only writer, a batch costs one
 * id lookup and one write per event and one compare-and-set, all of a batch's writes in flight at once. Another writer moving
 * the head first makes the compare-and-set fail, and the head is read again. Every id is looked up in the
 * archive before a claim: a message delivered for the first time may still be archived already (a
 * consumer's state can fall back after a server crash and deliver acknowledged messages anew).
 */
import type { AuditEvent } from '@meshgate/contracts';
import {
  HeadConflict,
  MAX_CLAIM,
  type AppendResult,
  type AuditArchive,
  type ChainLink,
  type ClaimedLink,
  type StoredChainHead,
} from '@meshgate/store';
import { canonical, linkHolds, nextLink } from './chain';

/** What became of an event: written now, already archived, refused, or blocked behind another claim. */
export type ArchiveOutcome =
  | { status: 'archived'; link: ChainLink }
  | { status: 'duplicate' }
  | { status: 'conflict'; reason: string }
  | { status: 'waiting' };

export interface ArchiverOptions {
  /** Attempts per batch before the events still open are answered `waiting` (the caller redelivers). */
  maxAttempts?: number;
  /** Base of the pauses between looks at a claim in progress, in ms (doubling, four looks at most). */
  waitMs?: number;
}

/** The head this archiver last saw of a tenant, and whether every record it claims is known written. */
interface KnownHead {
  head: StoredChainHead;
  settled: boolean;
}

/** Looks at a claim in progress before a batch blocked by it is answered `waiting` (pauses 10..80 ms). */
const MAX_BLOCKED = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Archives batches of events; safe to run in several replicas at once, and to repeat any event. */
export class Archiver {
  /** The largest batch `archiveBatch` takes. */
  static readonly maxBatch = MAX_CLAIM;
  private readonly heads = new Map<string, KnownHead>();

  constructor(
    private readonly archive: AuditArchive,
    private readonly opts: ArchiverOptions = {},
  ) {}

  /**
   * Archives `events`, all of `tenant`, at most {@link Archiver.maxBatch}, in their order; one outcome per
   * event, in the same order. Throws when the archive fails: then nothing is decided and every event of the
   * batch must be tried again (a claim already made is completed by that retry).
   */
  async archiveBatch(tenant: string, events: readonly AuditEvent[]): Promise<ArchiveOutcome[]> {
    if (events.length > MAX_CLAIM) throw new RangeError(`a batch holds at most ${MAX_CLAIM} events`);
    if (events.some((e) => e.tenant !== tenant))
      throw new RangeError(`every event must be of tenant ${tenant}`);
    const outcomes: (ArchiveOutcome | undefined)[] = events.map(() => undefined);
    // An id repeated within the batch is decided by its first occurrence (see the end).
    const first = new Map<string, number>();
    events.forEach((e, i) => {
      if (!first.has(e.id)) first.set(e.id, i);
    });
    let open = [...first.values()];
    const maxAttempts = this.opts.maxAttempts ?? 40;
    let blocked = 0;
    for (let attempt = 0; attempt < maxAttempts && open.length > 0; attempt++) {
      const known = await this.archive.getMany(
        tenant,
        open.map((i) => events[i]!.id),
      );
      open = open.filter((i) => {
        const stored = known.get(events[i]!.id);
        if (stored)
          outcomes[i] = sameEvent(stored.event, events[i]!)
            ? { status: 'duplicate' }
            : idConflict(events[i]!);
        return !stored;
      });
      if (open.length === 0) break;
      const current = this.heads.get(tenant) ?? (await this.readHead(tenant));
      if (current && !current.settled) {
        open = await this.completeClaim(current, events, open, outcomes);
        if (!(await this.claimSettled(tenant, current))) {
          // A live writer finishes within milliseconds; a dead one's events come back only after the ack
          // wait, maybe in the caller's next batch: after a few short pauses, answer `waiting`.
          if (++blocked > MAX_BLOCKED) break;
          await sleep((this.opts.waitMs ?? 5) * 2 ** blocked);
          continue;
        }
        if (open.length === 0) break;
      }
      const claimed = this.claimLinks(
        current?.head ?? null,
        open.map((i) => events[i]!),
      );
      const last = claimed.at(-1)!;
      let revision: number;
      try {
        revision = await this.archive.setHead(
          tenant,
          { seq: last.seq, hash: last.hash, claimed },
          current?.head.revision ?? 0,
        );
      } catch (err) {
        this.heads.delete(tenant);
        if (err instanceof HeadConflict) continue;
        throw err;
      }
      const mine: KnownHead = { head: { seq: last.seq, hash: last.hash, claimed, revision }, settled: false };
      this.heads.set(tenant, mine);
      const written = await this.archive.append(
        open.map((i, k) => ({ event: events[i]!, link: claimed[k]! })),
      );
      open.forEach((i, k) => (outcomes[i] = writtenOutcome(written[k]!, claimed[k]!, events[i]!)));
      mine.settled = true;
      open = [];
    }
    return events.map((e, i) => {
      const own = outcomes[i];
      if (own) return own;
      const decider = outcomes[first.get(e.id)!];
      if (!decider || decider.status === 'waiting') return { status: 'waiting' };
      if (decider.status === 'conflict') return decider;
      return sameEvent(events[first.get(e.id)!]!, e) ? { status: 'duplicate' } : idConflict(e);
    });
  }

  private async readHead(tenant: string): Promise<KnownHead | null> {
    const head = await this.archive.head(tenant);
    if (!head) return null;
    const known: KnownHead = { head, settled: false };
    this.heads.set(tenant, known);
    return known;
  }

  /** Writes the records of those open events the head claimed; returns the events still open. */
  private async completeClaim(
    current: KnownHead,
    events: readonly AuditEvent[],
    open: number[],
    outcomes: (ArchiveOutcome | undefined)[],
  ): Promise<number[]> {
    const byId = new Map(current.head.claimed.map((c) => [c.eventId, c]));
    const mine = open.filter((i) => byId.has(events[i]!.id));
    if (mine.length === 0) return open;
    const links = mine.map((i) => linkOf(byId.get(events[i]!.id)!));
    const holds = mine.filter((i, k) => {
      if (linkHolds(events[i]!, links[k]!)) return true;
      outcomes[i] = idConflict(events[i]!);
      return false;
    });
    const written = await this.archive.append(
      holds.map((i) => ({ event: events[i]!, link: linkOf(byId.get(events[i]!.id)!) })),
    );
    holds.forEach((i, k) => {
      outcomes[i] = writtenOutcome(written[k]!, linkOf(byId.get(events[i]!.id)!), events[i]!);
    });
    return open.filter((i) => !byId.has(events[i]!.id));
  }

  /** True once every record the head claims is written; marks the known head settled. */
  private async claimSettled(tenant: string, current: KnownHead): Promise<boolean> {
    const ids = current.head.claimed.map((c) => c.eventId);
    const found = await this.archive.getMany(tenant, ids);
    if (ids.some((id) => !found.has(id))) {
      // Another replica may be writing it, or moving the head on: read the head again next time.
      this.heads.delete(tenant);
      return false;
    }
    current.settled = true;
    return true;
  }

  private claimLinks(head: StoredChainHead | null, events: readonly AuditEvent[]): ClaimedLink[] {
    const claimed: ClaimedLink[] = [];
    let prev: Pick<ChainLink, 'seq' | 'hash'> | null = head;
    for (const event of events) {
      const link = nextLink(prev, event);
      claimed.push({ ...link, eventId: event.id });
      prev = link;
    }
    return claimed;
  }
}

/** Archives one event; what the archive tests and fixtures use. */
export async function archiveEvent(
  archive: AuditArchive,
  event: AuditEvent,
  opts: ArchiverOptions = {},
): Promise<ArchiveOutcome> {
  const [outcome] = await new Archiver(archive, opts).archiveBatch(event.tenant, [event]);
  return outcome!;
}

function linkOf(c: ClaimedLink): ChainLink {
  return { seq: c.seq, prevHash: c.prevHash, hash: c.hash };
}

/** What an append under `link` means: written now, written already (by a replica completing the claim). */
function writtenOutcome(written: AppendResult, link: ChainLink, event: AuditEvent): ArchiveOutcome {
  if (!sameEvent(written.record.event, event)) return idConflict(event);
  return written.created ? { status: 'archived', link } : { status: 'duplicate' };
}

function sameEvent(a: AuditEvent, b: AuditEvent): boolean {
  return canonical(a) === canonical(b);
}

function idConflict(event: AuditEvent): ArchiveOutcome {
  return { status: 'conflict', reason: `event id ${event.id} is already archived with other content` };
}
