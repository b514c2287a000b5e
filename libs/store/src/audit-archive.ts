/**
 * The persistence port of the audit archive (ADR 003): archived events with their chain links, the chain
 * head of each tenant (compare-and-set on a revision, so several archiver replicas serialise on it), signed
 * checkpoints, and filtered queries. Adapters (the embedded JetStream one here, a MongoDB one later) all pass
 * the same conformance suite. The chain logic itself lives in the audit service; this port only stores.
 */
import { z } from 'zod';
import { AuditEvent, TenantId } from '@meshgate/contracts';
import type { AuditQuery } from './audit-query';

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** Where an event sits in its tenant's hash chain: `hash = sha256(prevHash || canonical(event))`. */
export const ChainLink = z.object({
  seq: z.number().int().positive(),
  prevHash: Sha256Hex,
  hash: Sha256Hex,
});
export type ChainLink = z.infer<typeof ChainLink>;

/** One archived event, schema version 1. */
export const ArchiveRecord = z.object({ v: z.literal(1), event: AuditEvent, link: ChainLink });
export type ArchiveRecord = z.infer<typeof ArchiveRecord>;

/**
 * Links one archiver claims at once, at most: a batch of one tenant's events. Each batch costs a few NATS
 * round trips and a head write whatever its size, so under load larger batches archive more events per
 * second (on the bench's two cores 1,024 archived about 1.5 times as many as 256, and 2,048 about 1.2 times
 * as many as 1,024); the compact head naming them stays near 220 KB, and their records fill one or two blocks
 * for events of ordinary size.
 */
export const MAX_CLAIM = 2048;

/**
 * Links a chain head names at most. The archiver names one batch's; earlier builds claimed a batch while
 * the previous one was written and named both, which stored heads may still do. Twice MAX_CLAIM keeps a
 * head near 450 KB, well below NATS's default 1 MiB message limit.
 */
export const MAX_HEAD_LINKS = 2 * MAX_CLAIM;

/** A link claimed for an event whose record may not be written yet. */
export const ClaimedLink = ChainLink.extend({ eventId: z.uuid() });
export type ClaimedLink = z.infer<typeof ClaimedLink>;

/**
 * The head of a tenant's chain: the last claimed link (`seq`, `hash`) and the links claimed with it that
 * its writer has not seen written yet (its batch, and, from earlier builds, batches before it still being
 * written), in seq order, the last one being the head itself. An archiver claims a batch by moving the head
 * first and writes the records second, so a head whose claimed events do not all have records yet is a
 * claim in progress (or one whose writer died: its redelivered events complete it, each finding its own
 * link here). Stored, the head is compact (`{v:2, seq, prevHash, ids, hashes}`, see `chainHeadJson`); a
 * head of earlier builds (`{seq, hash, claimed}`, or `{seq, hash, prevHash, eventId}`: a claim of one link)
 * reads the same.
 */
export const ChainHead = z.preprocess(
  expandHead,
  z
    .object({
      seq: z.number().int().positive(),
      hash: Sha256Hex,
      claimed: z.array(ClaimedLink).min(1).max(MAX_HEAD_LINKS),
    })
    .refine(
      ({ seq, hash, claimed }) =>
        claimed.at(-1)?.seq === seq &&
        claimed.at(-1)?.hash === hash &&
        claimed.every(
          (c, i) => i === 0 || (c.seq === claimed[i - 1]!.seq + 1 && c.prevHash === claimed[i - 1]!.hash),
        ),
      'the claimed links must be consecutive, chained, and end at the head',
    ),
);
export type ChainHead = z.infer<typeof ChainHead>;

/** A stored head as `{seq, hash, claimed}`: a compact one expanded, one of a single link wrapped. */
function expandHead(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const head = value as Record<string, unknown>;
  if (head['v'] === 2) {
    const { seq, prevHash, ids, hashes } = head;
    if (
      typeof seq !== 'number' ||
      !Array.isArray(ids) ||
      !Array.isArray(hashes) ||
      ids.length !== hashes.length
    )
      return { seq, claimed: 'not a compact head' };
    const first = seq - ids.length + 1;
    const claimed = ids.map((eventId: unknown, k) => ({
      seq: first + k,
      prevHash: k === 0 ? prevHash : hashes[k - 1],
      hash: hashes[k],
      eventId,
    }));
    return { seq, hash: hashes.at(-1), claimed };
  }
  return !('claimed' in head) && 'eventId' in head ? { ...head, claimed: [head] } : head;
}

/**
 * A chain head as stored, with the revision a compare-and-set must name and, where the store knows it,
 * when it was stored (ISO 8601, the store's clock): the records it claims were written after that.
 */
export type StoredChainHead = ChainHead & { revision: number; storedAt?: string };

/** A signed statement that a tenant's chain had `hash` at `seq` at `time` (Ed25519 over RFC 8785 JSON). */
export const Checkpoint = z.object({
  v: z.literal(1),
  tenant: TenantId,
  seq: z.number().int().positive(),
  hash: Sha256Hex,
  time: z.iso.datetime({ offset: true }),
  /** First 16 hex digits of the SHA-256 of the signing key's SPKI DER form. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Base64 Ed25519 signature. */
  signature: z.string().min(1).max(256),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

/** One page of a query; `cursor` continues it, null when nothing is left. */
export interface AuditPage {
  records: ArchiveRecord[];
  cursor: string | null;
}

/**
 * An event as a caller holds it already: its id, tenant and time, and its JSON text as UTF-8 (the audit
 * service's canonical form, which its chain hashes).
 */
export interface EventText {
  readonly id: string;
  readonly tenant: string;
  readonly time: string;
  readonly json: Uint8Array;
}

/** An event with the link it is archived under. */
export interface ArchiveEntry {
  /**
   * The event. Where the entry has `text`, an adapter reads it only if it needs the object: a caller's
   * entry may parse it on first read.
   */
  readonly event: AuditEvent;
  readonly link: ChainLink;
  /**
   * The event as JSON text, when the caller has it already: an adapter that stores JSON may write it as it
   * is rather than serialise the event again. It must be a JSON text of `event`, with its id, tenant and time.
   */
  readonly text?: EventText;
}

/** An event id with the event's own time, so an archive with a bounded id index knows how far back to look. */
export interface EventRef {
  id: string;
  /** The event's `time` (ISO 8601); a record is never stored more than the clock skew before it. */
  time: string;
}

/** What the caller of a lookup knows of the tenant's other writers. */
export interface LookupOptions {
  /**
   * Any record of the tenant another writer stored since the caller last looked belongs to a claim made
   * after the head the caller knows (it moved that head itself, or saw every record that head claims
   * written), so the caller's next compare-and-set fails on it: an adapter may answer from the records it
   * has read and written itself, without asking the store what others wrote since.
   */
  soleWriter?: boolean;
}

/** The result of an append: the stored record, and whether this call wrote it. */
export interface AppendResult {
  record: ArchiveRecord;
  created: boolean;
}

/** The archive of the audit trail. */
export interface AuditArchive {
  /**
   * Stores each event with its link, one result per entry in the same order; idempotent by event id: a
   * known id returns the record already stored (an adapter without a permanent unique index on the id, as
   * the embedded one, guarantees this within its duplicate window of at least 10 minutes; the archiver
   * looks every id up with `getMany` before claiming a link for it). Entries are independent: a batch is
   * not a transaction.
   */
  append(entries: readonly ArchiveEntry[]): Promise<AppendResult[]>;
  /**
   * Stores entries whose links the caller has just claimed and that no one else can be writing (the audit
   * service guarantees this by time): one write for the whole batch (the embedded adapter splits only a
   * batch too large for one message). Entries whose event id the archive already knows are not written
   * again: their stored record is returned, `created: false`; an id repeated in the batch is written once.
   * One result per entry, in order. All entries must be of one tenant, at most {@link MAX_CLAIM}: a
   * RangeError otherwise; an invalid entry rejects the whole call before anything is written. An adapter
   * may look the ids up among the records it has read and written itself, without asking the store again:
   * the caller looked them up before its claim, and no one else can be writing them.
   */
  appendBlock(entries: readonly ArchiveEntry[]): Promise<AppendResult[]>;
  /** The record of an event id of any tenant, or null (may be slow: not for the archiving path). */
  getById(eventId: string): Promise<ArchiveRecord | null>;
  /**
   * The records of `tenant` among those ids, by id (ids that are not valid, not known, or of another
   * tenant are absent); what the archiver asks before every claim, so it must be fast.
   */
  getMany(tenant: string, eventIds: readonly string[]): Promise<Map<string, ArchiveRecord>>;
  /**
   * `getMany` for events whose time the caller knows: as exact, and faster on an adapter whose id index
   * does not reach back to the beginning (the embedded one looks for an unknown id only where a record of
   * an event of that time can be). An invalid time is treated as unknown.
   */
  getManyEvents(
    tenant: string,
    events: readonly EventRef[],
    opts?: LookupOptions,
  ): Promise<Map<string, ArchiveRecord>>;
  /**
   * Records of `tenant` with `seq >= fromSeq`, at most `limit`, in seq order (records sharing a seq, which
   * only tampering produces, follow each other in storage order).
   */
  records(tenant: string, fromSeq: number, limit: number): Promise<ArchiveRecord[]>;
  /** The chain head of `tenant`, or null before its first event. */
  head(tenant: string): Promise<StoredChainHead | null>;
  /**
   * Moves the head of `tenant` if it is still at `expectedRevision` (0: there must be no head yet) and
   * returns the new revision; throws HeadConflict when another writer moved it first.
   */
  setHead(tenant: string, head: ChainHead, expectedRevision: number): Promise<number>;
  /** Stores a checkpoint (one per tenant and seq; a second one for the same seq replaces it). */
  putCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** Checkpoints of `tenant` in seq order. */
  checkpoints(tenant: string): Promise<Checkpoint[]>;
  /** Records matching `filters`, from `cursor` (null: the beginning), in a stable order. */
  query(filters: AuditQuery, cursor: string | null, limit: number): Promise<AuditPage>;
  /** Resolves when the backing store answers; rejects when it cannot be reached. */
  ping(): Promise<void>;
}

const HEX = /^[0-9a-f]*$/;
const isHashShape = (value: unknown) => typeof value === 'string' && value.length === 64;
const isSeq = (value: unknown) => Number.isSafeInteger(value) && (value as number) > 0;

/**
 * The shape of links, checked by hand: the archiver's hot path checks a thousand per batch. A link chained
 * to the one before it (its seq next, its prevHash the hash before) has only its own hash checked, and the
 * hex digits of all are checked in one scan (one regular expression per hash costs several times more).
 */
function checkLinks(links: readonly ChainLink[], what: (i: number) => string): void {
  const hashes: string[] = [];
  links.forEach((link, i) => {
    if (!isSeq(link.seq)) throw new RangeError(`${what(i)}: seq must be a positive integer`);
    const before = links[i - 1];
    if (!(before && link.seq === before.seq + 1 && link.prevHash === before.hash)) {
      if (!isHashShape(link.prevHash))
        throw new RangeError(`${what(i)}: prevHash must be 64 lowercase hex digits`);
      hashes.push(link.prevHash);
    }
    if (!isHashShape(link.hash)) throw new RangeError(`${what(i)}: hash must be 64 lowercase hex digits`);
    hashes.push(link.hash);
  });
  if (HEX.test(hashes.join(''))) return;
  links.forEach((link, i) => {
    if (!HEX.test(link.prevHash))
      throw new RangeError(`${what(i)}: prevHash must be 64 lowercase hex digits`);
    if (!HEX.test(link.hash)) throw new RangeError(`${what(i)}: hash must be 64 lowercase hex digits`);
  });
}

/** An entry of an `appendBlock` call, checked, with its event's id and tenant (from its text where it has one). */
export interface BlockEntry {
  id: string;
  tenant: string;
  time: string;
  link: ChainLink;
  entry: ArchiveEntry;
}

/**
 * The entries of an `appendBlock` call, checked: at most {@link MAX_CLAIM} of one tenant with valid links (a
 * RangeError otherwise). The events are the caller's, validated where it read them (the archiver reads
 * every event through `AuditEvent`); only their id and tenant are checked again here.
 */
export function blockEntries(entries: readonly ArchiveEntry[]): BlockEntry[] {
  if (entries.length > MAX_CLAIM) throw new RangeError(`a block holds at most ${MAX_CLAIM} entries`);
  const first = entries[0];
  const tenant = first && (first.text ?? first.event).tenant;
  if (tenant !== undefined && !TenantId.safeParse(tenant).success) throw new RangeError('invalid tenant');
  checkLinks(
    entries.map((e) => e.link),
    (i) => `entry ${i}`,
  );
  return entries.map((entry, i) => {
    const { id, tenant: own, time } = entry.text ?? entry.event;
    if (own !== tenant) throw new RangeError('the entries of a block must all be of one tenant');
    if (typeof id !== 'string' || id.length !== 36) throw new RangeError(`entry ${i}: invalid event id`);
    const { link } = entry;
    return { id, tenant, time, link: { seq: link.seq, prevHash: link.prevHash, hash: link.hash }, entry };
  });
}

/** The record of a checked entry; its event is read from the entry only when asked for. */
export function blockRecord(block: BlockEntry): ArchiveRecord {
  return {
    v: 1,
    get event() {
      return block.entry.event;
    },
    link: block.link,
  };
}

/**
 * `head` checked as {@link ChainHead} would check it, for the archiver's compare-and-set (a head names up
 * to {@link MAX_HEAD_LINKS} links, which the schema checks about ten times slower); the JSON to store, in
 * the compact form: `{v:2, seq, prevHash, ids, hashes}`, the first link's prevHash and each link's event id
 * and hash in seq order (each link's prevHash is the hash before it), about half the bytes of the links.
 */
export function chainHeadJson(head: ChainHead): string {
  const { seq, hash, claimed } = head;
  if (!Array.isArray(claimed) || claimed.length < 1 || claimed.length > MAX_HEAD_LINKS)
    throw new RangeError(`a head claims 1 to ${MAX_HEAD_LINKS} links`);
  checkLinks(claimed, (i) => `claimed link ${i}`);
  const ids: string[] = [];
  const hashes: string[] = [];
  claimed.forEach((c, i) => {
    const before = claimed[i - 1];
    if (before && (c.seq !== before.seq + 1 || c.prevHash !== before.hash))
      throw new RangeError('the claimed links must be consecutive and chained');
    if (typeof c.eventId !== 'string' || c.eventId.length !== 36)
      throw new RangeError(`claimed link ${i}: invalid event id`);
    ids.push(c.eventId);
    hashes.push(c.hash);
  });
  const last = claimed.at(-1)!;
  if (last.seq !== seq || last.hash !== hash) throw new RangeError('the claimed links must end at the head');
  return JSON.stringify({ v: 2, seq, prevHash: claimed[0]!.prevHash, ids, hashes });
}

/** A compare-and-set of a chain head lost: another writer moved it first. */
export class HeadConflict extends Error {
  constructor(
    readonly tenant: string,
    readonly expectedRevision: number,
  ) {
    super(`the chain head of tenant "${tenant}" is not at revision ${expectedRevision}`);
    this.name = 'HeadConflict';
  }
}

/** A query cursor that this adapter did not issue. */
export class InvalidCursor extends Error {
  constructor(cursor: string) {
    super(`invalid cursor: ${JSON.stringify(cursor.slice(0, 64))}`);
    this.name = 'InvalidCursor';
  }
}
