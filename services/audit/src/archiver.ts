/**
 * Archives valid events with their chain links (ADR 003), over the AuditArchive port only, a batch of one
 * tenant's events at a time. An archiver claims the next seqs by moving the tenant's head with one
 * compare-and-set naming every claimed link, then writes the records; the loser of a race re-reads the head
 * and retries. A head whose claimed records are not all written is a claim in progress: the next claim waits
 * for it, and a redelivered event that finds its own link among the claimed completes it, so a replica that
 * dies between claim and write leaves no gap once its messages are redelivered.
 *
 * The archiver remembers the head it last moved per tenant: while it is the only writer, a batch costs one
 * id lookup (an index in memory for the embedded archive), one compare-and-set and one write: the records
 * of a fresh claim go out as one block when the caller vouches that no other replica can be handed these
 * events before `blockUntil` (the consumer marks their messages in progress first); a claim completed
 * for another writer, or a block that would come too late, is written record by record through the
 * idempotent `append`. Another writer moving
 * the head first makes the compare-and-set fail, and the head is read again. Every id is looked up in the
 * archive before a claim: a message delivered for the first time may still be archived already (a
 * consumer's state can fall back after a server crash and deliver acknowledged messages anew).
 */
import type { AuditEvent } from '@meshgate/contracts';
import {
  HeadConflict,
  MAX_CLAIM,
  type AppendResult,
  type ArchiveEntry,
  type AuditArchive,
  type ChainLink,
  type ClaimedLink,
  type StoredChainHead,
} from '@meshgate/store';
import { GENESIS_HASH, linkHash, linkHolds } from './chain';
import { ReadEvent } from './read-event';

/** What became of an event: written now, already archived, refused, or blocked behind another claim. */
export type ArchiveOutcome =
  | { status: 'archived'; link: ChainLink }
  | { status: 'duplicate' }
  | { status: 'conflict'; reason: string }
  | { status: 'waiting' };

/** What the caller of one `archiveBatch` knows. */
export interface BatchOptions {
  /**
   * Until this time (epoch ms) no other archiver can be handed these events: the records of a fresh claim
   * may then be written as one block. Absent or past: record by record.
   */
  blockUntil?: number;
}

export interface ArchiverOptions {
  /** Attempts per batch before the events still open are answered `waiting` (the caller redelivers). */
  maxAttempts?: number;
  /** Base of the pauses between looks at a claim in progress, in ms (doubling, four looks at most). */
  waitMs?: number;
}

/**
 * The head this archiver last saw of a tenant, and whether every record it claims is known written or on
 * its way: `settled` for a head this archiver moved itself (its write may be under way), not for one read
 * from the store until its claimed records are found.
 */
interface KnownHead {
  head: StoredChainHead;
  settled: boolean;
}

/** A fresh claim to write: the events' places in the batch and their links. */
interface Claim {
  open: number[];
  claimed: ClaimedLink[];
}

/** Looks at a claim in progress before a batch blocked by it is answered `waiting` (pauses 10..80 ms). */
const MAX_BLOCKED = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Archives batches of events; safe to run in several replicas at once, and to repeat any event. Batches of
 * one tenant may overlap: the next batch is looked up and hashed while the previous one is written, but
 * its claim waits for that write. So a head names one batch's links, and the archive holds a tenant's
 * records in seq order, as readers paging by seq expect, even when a write fails (the next claim then
 * completes the failed one's links first).
 */
export class Archiver {
  /** The largest batch `archiveBatch` takes. */
  static readonly maxBatch = MAX_CLAIM;
  private readonly heads = new Map<string, KnownHead>();
  /** Tenants whose write failed: their next claim reads the head from the store again. */
  private readonly failed = new Set<string>();
  private readonly claims = new Map<string, Promise<unknown>>();
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(
    private readonly archive: AuditArchive,
    private readonly opts: ArchiverOptions = {},
  ) {}

  /**
   * Archives `events`, all of `tenant`, at most {@link Archiver.maxBatch}, in their order; one outcome per
   * event, in the same order. Events read from the stream come with their canonical text (ReadEvent); an
   * event object is written as its canonical form. Throws when the archive fails: then nothing is decided
   * and every event of the batch must be tried again (a claim already made is completed by that retry).
   */
  async archiveBatch(
    tenant: string,
    batchEvents: readonly (ReadEvent | AuditEvent)[],
    batch: BatchOptions = {},
  ): Promise<ArchiveOutcome[]> {
    const events = batchEvents.map((e) => (e instanceof ReadEvent ? e : ReadEvent.of(e)));
    if (events.length > MAX_CLAIM) throw new RangeError(`a batch holds at most ${MAX_CLAIM} events`);
    if (events.some((e) => e.tenant !== tenant))
      throw new RangeError(`every event must be of tenant ${tenant}`);
    const outcomes: (ArchiveOutcome | undefined)[] = events.map(() => undefined);
    // An id repeated within the batch is decided by its first occurrence (see the end).
    const first = new Map<string, number>();
    events.forEach((e, i) => {
      if (!first.has(e.id)) first.set(e.id, i);
    });
    const claim = await serially(this.claims, tenant, () =>
      this.claimBatch(tenant, events, [...first.values()], outcomes),
    );
    if (claim)
      await serially(this.writes, tenant, () => this.writeClaim(tenant, events, claim, outcomes, batch));
    return events.map((e, i) => {
      const own = outcomes[i];
      if (own) return own;
      const decider = outcomes[first.get(e.id)!];
      if (!decider || decider.status === 'waiting') return { status: 'waiting' };
      if (decider.status === 'conflict') return decider;
      return events[first.get(e.id)!]!.sameAs(e) ? { status: 'duplicate' } : idConflict(e);
    });
  }

  /**
   * Decides what is archived already, completes a claim in progress, and claims links for the rest with one
   * compare-and-set; returns that claim, or null when nothing is left to write (or the batch is blocked).
   */
  private async claimBatch(
    tenant: string,
    events: readonly ReadEvent[],
    open: number[],
    outcomes: (ArchiveOutcome | undefined)[],
  ): Promise<Claim | null> {
    const maxAttempts = this.opts.maxAttempts ?? 40;
    let blocked = 0;
    for (let attempt = 0; attempt < maxAttempts && open.length > 0; attempt++) {
      // A failed write leaves its links claimed: the head is read again, and they are completed first.
      if (this.failed.delete(tenant)) this.heads.delete(tenant);
      // A head this archiver moved or saw settled: what others store meanwhile fails the next claim.
      const known = await this.archive.getManyEvents(
        tenant,
        open.map((i) => events[i]!),
        { soleWriter: this.heads.get(tenant)?.settled === true },
      );
      open = open.filter((i) => {
        const stored = known.get(events[i]!.id);
        if (stored)
          outcomes[i] = events[i]!.sameAs(stored.event) ? { status: 'duplicate' } : idConflict(events[i]!);
        return !stored;
      });
      if (open.length === 0) return null;
      const current = this.heads.get(tenant) ?? (await this.readHead(tenant));
      if (current && !current.settled) {
        open = await this.completeClaim(current, events, open, outcomes);
        if (!(await this.claimSettled(tenant, current))) {
          // A live writer finishes within milliseconds; a dead one's events come back only after the ack
          // wait, maybe in the caller's next batch: after a few short pauses, answer `waiting`.
          if (++blocked > MAX_BLOCKED) return null;
          await sleep((this.opts.waitMs ?? 5) * 2 ** blocked);
          continue;
        }
        if (open.length === 0) return null;
      }
      const claimed = this.claimLinks(
        current?.head ?? null,
        open.map((i) => events[i]!),
      );
      // The archive holds records in seq order: a claim waits for the tenant's write under way (its events
      // were looked up and hashed meanwhile), and is made afresh when that write failed.
      const writing = this.writes.get(tenant);
      if (writing) {
        await writing;
        if (this.failed.has(tenant) || this.heads.get(tenant) !== current) continue;
      }
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
      this.heads.set(tenant, {
        head: { seq: last.seq, hash: last.hash, claimed, revision },
        settled: true,
      });
      return { open, claimed };
    }
    return null;
  }

  /** Writes a fresh claim's records: one block while no other replica can be handed them, else one by one. */
  private async writeClaim(
    tenant: string,
    events: readonly ReadEvent[],
    { open, claimed }: Claim,
    outcomes: (ArchiveOutcome | undefined)[],
    batch: BatchOptions,
  ): Promise<void> {
    const entries = open.map((i, k) => entryOf(events[i]!, claimed[k]!));
    try {
      const written =
        Date.now() < (batch.blockUntil ?? 0)
          ? await this.archive.appendBlock(entries)
          : await this.archive.append(entries);
      open.forEach((i, k) => (outcomes[i] = writtenOutcome(written[k]!, claimed[k]!, events[i]!)));
    } catch (err) {
      // The head names these links: the next claim reads it again and waits for them to be completed.
      this.failed.add(tenant);
      throw err;
    }
  }

  private async readHead(tenant: string): Promise<KnownHead | null> {
    // A head from the store supersedes this archiver's own: whatever it names is what must be written.
    const head = await this.archive.head(tenant);
    if (!head) return null;
    const known: KnownHead = { head, settled: false };
    this.heads.set(tenant, known);
    return known;
  }

  /** Writes the records of those open events the head claimed; returns the events still open. */
  private async completeClaim(
    current: KnownHead,
    events: readonly ReadEvent[],
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
      holds.map((i) => entryOf(events[i]!, linkOf(byId.get(events[i]!.id)!))),
    );
    holds.forEach((i, k) => {
      outcomes[i] = writtenOutcome(written[k]!, linkOf(byId.get(events[i]!.id)!), events[i]!);
    });
    return open.filter((i) => !byId.has(events[i]!.id));
  }

  /** True once every record the head claims is written; marks the known head settled. */
  private async claimSettled(tenant: string, current: KnownHead): Promise<boolean> {
    if (!(await claimWritten(this.archive, tenant, current.head))) {
      // Another replica may be writing it, or moving the head on: read the head again next time.
      this.heads.delete(tenant);
      return false;
    }
    current.settled = true;
    return true;
  }

  private claimLinks(head: StoredChainHead | null, events: readonly ReadEvent[]): ClaimedLink[] {
    const claimed: ClaimedLink[] = [];
    let prev: Pick<ChainLink, 'seq' | 'hash'> | null = head;
    for (const event of events) {
      const prevHash = prev ? prev.hash : GENESIS_HASH;
      const link = {
        seq: prev ? prev.seq + 1 : 1,
        prevHash,
        hash: linkHash(prevHash, event),
        eventId: event.id,
      };
      claimed.push(link);
      prev = link;
    }
    return claimed;
  }
}

/**
 * True when every link `head` claims has its record. The records were written after the head was stored:
 * where the store tells that time, it bounds where an archive with a trimmed id index looks.
 */
export async function claimWritten(
  archive: AuditArchive,
  tenant: string,
  head: StoredChainHead,
): Promise<boolean> {
  const ids = head.claimed.map((c) => c.eventId);
  const storedAt = head.storedAt;
  const found = storedAt
    ? await archive.getManyEvents(
        tenant,
        ids.map((id) => ({ id, time: storedAt })),
      )
    : await archive.getMany(tenant, ids);
  return ids.every((id) => found.has(id));
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

/** Runs `task` after every task queued before it under `key` (settled either way). */
function serially<T>(chains: Map<string, Promise<unknown>>, key: string, task: () => Promise<T>): Promise<T> {
  const run = (chains.get(key) ?? Promise.resolve()).then(task, task);
  const tail = run.catch(() => undefined);
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return run;
}

function linkOf(c: ClaimedLink): ChainLink {
  return { seq: c.seq, prevHash: c.prevHash, hash: c.hash };
}

/** What an append under `link` means: written now, written already (by a replica completing the claim). */
function writtenOutcome(written: AppendResult, link: ChainLink, event: ReadEvent): ArchiveOutcome {
  if (written.created) return { status: 'archived', link }; // the record of this very event
  return event.sameAs(written.record.event) ? { status: 'duplicate' } : idConflict(event);
}

/** The archive entry of an event read: its text at hand, the object parsed only if the archive asks. */
function entryOf(event: ReadEvent, link: ChainLink): ArchiveEntry {
  return {
    get event() {
      return event.event;
    },
    link,
    text: event,
  };
}

function idConflict(event: ReadEvent): ArchiveOutcome {
  return { status: 'conflict', reason: `event id ${event.id} is already archived with other content` };
}
