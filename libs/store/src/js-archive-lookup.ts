/**
 * Finds archived records by event id on the embedded archive stream, whoever wrote them, through the id
 * index of js-archive-index.ts. The index is loaded on first use with the newest messages of the stream
 * (up to `maxIds` ids) and caught up before every lookup by reading what was stored since it last looked:
 * one message get that finds nothing when no one else wrote, since the writer's own messages are added
 * from their acknowledgements. An id the index does not know is absent unless it may be older than the
 * index's horizon H: that is when the index was trimmed and the event's time, less the clock skew, is not
 * after the time of H (or unknown). Then the tenant's messages before H are scanned, from the first one
 * stored at or after that time (a binary search over stream seqs by message time).
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { ArchiveRecord } from './audit-archive';
import { ArchiveIndex, indexedMessage, type IndexedMessage } from './js-archive-index';
import {
  decodeRecords,
  nextMessage,
  readRange,
  type ArchiveMessage,
  type OnCorrupt,
} from './js-archive-scan';

/** Where the archive is and how far the index reaches. */
export interface ArchiveLookupOptions {
  stream: string;
  /** Subjects are `<prefix>.<tenant>.<token>`. */
  prefix: string;
  /** Ids the index holds at most (the newest). */
  maxIds: number;
  /** How much earlier than its event's time (by the event's clock) a record may be stored, in ms. */
  clockSkewMs: number;
  onCorrupt?: OnCorrupt | undefined;
}

/**
 * An id to look for, with its event's time (ISO 8601) when known: read only for an id the index does not
 * know and whose record may be older than the index (most lookups never parse it).
 */
export interface LookupRef {
  id: string;
  time?: string | undefined;
}

/** The time of a ref in ms, or undefined when it has none or it does not parse. */
function timeMsOf(ref: LookupRef): number | undefined {
  if (ref.time === undefined) return undefined;
  const ms = Date.parse(ref.time);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Messages read one by one when catching up before reading the rest through a consumer. */
const CATCH_UP_GETS = 16;

/** Looks records up by id on the archive stream; see the file header. */
export class ArchiveLookup {
  private index: ArchiveIndex | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** The stream seq of this process's last write: the index is behind while it has not reached it. */
  private ownLast = 0;
  private readonly all: string;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: ArchiveLookupOptions,
  ) {
    this.all = `${opts.prefix}.*.*`;
  }

  /**
   * Brings the index up to the end of the stream: loads it on first use, then reads what was stored since.
   * Concurrent calls share a catch-up only when it starts after they asked, so each sees every message
   * stored before its call.
   */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    const before = this.running ?? Promise.resolve();
    const run: Promise<void> = before
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        this.running = run;
        return this.catchUp();
      })
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.queued = run;
    return run;
  }

  /**
   * True when the index holds every message up to the last one this process wrote: it then knows all this
   * process stored, and whatever it read at its last catch-up. A lookup that need not see what others
   * stored since (AuditArchive's `soleWriter`) may skip `sync`.
   */
  get current(): boolean {
    return this.index !== undefined && this.ownLast <= this.index.seen;
  }

  /** Indexes a message this process has just stored, when it is the next one (else catch-up reads it). */
  noteWrite(seq: number, tenant: string, ids: readonly string[]): void {
    this.ownLast = Math.max(this.ownLast, seq);
    if (!this.index || seq !== this.index.seen + 1) return;
    this.index.add({ seq, tenant, timeMs: undefined, ids });
  }

  /**
   * The stored records of those ids, by id; of `tenant` only, or of any tenant when it is null. Call
   * `sync` first.
   */
  async find(tenant: string | null, refs: readonly LookupRef[]): Promise<Map<string, ArchiveRecord>> {
    const index = this.index;
    const found = new Map<string, ArchiveRecord>();
    if (!index || refs.length === 0) return found;
    const bySeq = new Map<number, Map<number, string>>();
    const misses: LookupRef[] = [];
    for (const ref of refs) {
      const hit = index.find(ref.id);
      if (!hit) misses.push(ref);
      else if (tenant === null || hit.tenant === tenant)
        bySeq.set(hit.seq, (bySeq.get(hit.seq) ?? new Map<number, string>()).set(hit.pos, ref.id));
    }
    await Promise.all(
      [...bySeq].map(async ([seq, wanted]) => {
        const msg = await this.jsm.streams.getMessage(this.opts.stream, { seq });
        const records = msg ? decodeRecords(msg, this.opts.onCorrupt) : [];
        for (const [pos, id] of wanted) {
          const record = records[pos];
          if (record?.event.id === id && (tenant === null || record.event.tenant === tenant))
            found.set(id, record);
        }
      }),
    );
    const older = await this.possiblyOlder(index, misses);
    if (older.length > 0) for (const [id, r] of await this.scanBefore(index, tenant, older)) found.set(id, r);
    return found;
  }

  /** The misses whose records may be stored before the horizon. */
  private async possiblyOlder(index: ArchiveIndex, misses: readonly LookupRef[]): Promise<LookupRef[]> {
    if (index.complete || misses.length === 0) return [];
    const oldest = index.oldest;
    let horizonTime = oldest?.timeMs;
    if (oldest && horizonTime === undefined) {
      const msg = await nextMessage(this.jsm, this.opts.stream, this.all, oldest.seq);
      horizonTime = msg?.timeMs ?? Infinity;
      index.setOldestTime(oldest.seq, horizonTime);
    }
    const bound = (horizonTime ?? Infinity) + this.opts.clockSkewMs;
    return misses.filter((ref) => {
      const timeMs = timeMsOf(ref);
      return !(timeMs !== undefined && timeMs > bound);
    });
  }

  /** The records of those ids among the messages before the horizon. */
  private async scanBefore(
    index: ArchiveIndex,
    tenant: string | null,
    refs: readonly LookupRef[],
  ): Promise<Map<string, ArchiveRecord>> {
    const wanted = new Set(refs.map((r) => r.id));
    const times = refs.map(timeMsOf);
    const from = times.every((t) => t !== undefined)
      ? await this.firstStoredAtOrAfter(Math.min(...times) - this.opts.clockSkewMs, index.horizon)
      : 1;
    const found = new Map<string, ArchiveRecord>();
    const subject = tenant === null ? this.all : `${this.opts.prefix}.${tenant}.*`;
    await readRange(this.js, this.jsm, this.opts.stream, { subject, from, to: index.horizon - 1 }, (msg) => {
      for (const record of decodeRecords(msg))
        if (record && wanted.has(record.event.id) && (tenant === null || record.event.tenant === tenant))
          found.set(record.event.id, record);
    });
    return found;
  }

  /** The first stream seq below `end` whose message was stored at or after `timeMs` (else `end`). */
  private async firstStoredAtOrAfter(timeMs: number, end: number): Promise<number> {
    let lo = 1;
    let hi = end;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const msg = await nextMessage(this.jsm, this.opts.stream, this.all, mid);
      if (!msg || msg.seq >= hi || msg.timeMs >= timeMs) hi = mid;
      else lo = msg.seq + 1;
    }
    return lo;
  }

  private async catchUp(): Promise<void> {
    const index = this.index ?? (await this.load());
    for (let gets = 0; gets < CATCH_UP_GETS; gets++) {
      const msg = await nextMessage(this.jsm, this.opts.stream, this.all, index.seen + 1);
      if (!msg) return;
      this.addRead(index, msg);
    }
    await readRange(this.js, this.jsm, this.opts.stream, { subject: this.all, from: index.seen + 1 }, (msg) =>
      this.addRead(index, msg),
    );
  }

  private addRead(index: ArchiveIndex, msg: ArchiveMessage): void {
    // The writer's own message may have been added from its acknowledgement meanwhile.
    if (msg.seq > index.seen) index.add(this.entryOf(msg));
  }

  /**
   * Reads the newest messages holding up to `maxIds` ids, in chunks from the end of the stream backwards
   * (a block holds many ids, a single record one), then indexes them oldest first.
   */
  private async load(): Promise<ArchiveIndex> {
    const { state } = await this.jsm.streams.info(this.opts.stream);
    const chunks: IndexedMessage[][] = [];
    let ids = 0;
    let start = state.last_seq + 1;
    for (let size = 256; ids < this.opts.maxIds && start > state.first_seq && state.messages > 0; size *= 2) {
      const to = start - 1;
      start = Math.max(state.first_seq, start - size);
      const chunk: IndexedMessage[] = [];
      await readRange(this.js, this.jsm, this.opts.stream, { subject: this.all, from: start, to }, (msg) =>
        chunk.push(this.entryOf(msg)),
      );
      ids += chunk.reduce((n, m) => n + m.ids.length, 0);
      chunks.unshift(chunk);
    }
    const index = new ArchiveIndex(this.opts.maxIds, start, start <= state.first_seq || state.messages === 0);
    for (const entry of chunks.flat()) index.add(entry);
    if (!this.index) this.index = index;
    return this.index;
  }

  private entryOf(msg: ArchiveMessage): IndexedMessage {
    const tenant = msg.subject.slice(this.opts.prefix.length + 1).split('.')[0] ?? '';
    return indexedMessage(msg.seq, tenant, msg.timeMs, msg.data);
  }
}
