/**
 * The AuditArchive on MongoDB (ADR 003), used when `MONGO_URL` is set. Collections `<prefix>records` (one
 * document per event, `_id` = event id, see mongo-audit-documents.ts), `<prefix>heads` (`_id` = tenant,
 * compare-and-set on `revision`), `<prefix>checkpoints` (`_id` = `<tenant>.<seq>`) and `<prefix>counters`
 * (the counter that gives records their archive order). Queries run in archive order, as on the embedded
 * adapter; a reader paging while archivers write may miss a record whose write was still in flight when it
 * read the page after it (orders are taken before the insert commits), which the embedded stream's commit
 * order rules out. Retention is a TTL index on the event's time. The driver is loaded by `open`, so that
 * processes importing this library without a MongoDB archive never load it.
 */
import { z } from 'zod';
import type * as Mongo from 'mongodb';
import type { Collection, Db, MongoClient } from 'mongodb';
import { TenantId } from '@meshgate/contracts';
import {
  ArchiveRecord,
  HeadConflict,
  blockEntries,
  type ChainHead,
  type EventRef,
  type AppendResult,
  type ArchiveEntry,
  type AuditArchive,
  type AuditPage,
  type Checkpoint,
  type StoredChainHead,
} from './audit-archive';
import { matchesAuditQuery, type AuditQuery } from './audit-query';
import {
  CHECKPOINT_INDEXES,
  RECORD_INDEXES,
  TIME_INDEX,
  checkpointDocument,
  checkpointOf,
  decodeCursor,
  encodeCursor,
  headDocument,
  orderOf,
  readRecordDocument,
  recordDocument,
  recordQuery,
  storedHeadOf,
  timeIndex,
  type CheckpointDocument,
  type HeadDocument,
  type RecordDocument,
} from './mongo-audit-documents';

/** Where the archive lives and how long it keeps records. */
export interface MongoAuditArchiveOptions {
  /** The database; `meshgate` unless given (the connection string's database is not used). */
  dbName?: string;
  /** Prefix of the collection names; `audit_` unless a test isolates itself. */
  collectionPrefix?: string;
  /** Days a record is kept after its event's time (TTL index); absent or 0 keeps records forever. */
  retentionDays?: number;
  /** Told about every stored record that cannot be read (it is skipped); `recordId` is its `_id`. */
  onCorrupt?: (recordId: string, reason: string) => void;
}

const Options = z.object({
  dbName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/)
    .default('meshgate'),
  collectionPrefix: z
    .string()
    .regex(/^(?!system\.)[A-Za-z0-9_.-]{0,64}$/)
    .default('audit_'),
  // expireAfterSeconds must fit a signed 32-bit integer.
  retentionDays: z.number().int().min(0).max(24_855).default(0),
});

const DUPLICATE_KEY = 11_000;
const INDEX_NOT_FOUND = 27;
const INDEX_OPTIONS_CONFLICT = 85;
/** Records one query page holds at most, whatever the limit asked. */
const MAX_PAGE = 10_000;
const Limit = z.number().int().min(1);
const Revision = z.number().int().min(0);
const uuid = z.uuid();

let driver: Promise<typeof Mongo> | undefined;
const loadDriver = () => (driver ??= import('mongodb'));

const isServerError = (err: unknown, code: number) =>
  err instanceof Error && 'code' in err && err.code === code;

/** The AuditArchive on MongoDB; open it with `MongoAuditArchive.open`, release it with `close`. */
export class MongoAuditArchive implements AuditArchive {
  private constructor(
    private readonly client: MongoClient,
    private readonly ownsClient: boolean,
    private readonly db: Db,
    private readonly recordDocs: Collection<RecordDocument>,
    private readonly heads: Collection<HeadDocument>,
    private readonly cps: Collection<CheckpointDocument>,
    private readonly counters: Collection<{ _id: string; next: number }>,
    private readonly onCorrupt: (recordId: string, reason: string) => void,
  ) {}

  /**
   * Connects (to a connection string; a client passed in stays the caller's to close) and creates the
   * collections' indexes when they are missing; the TTL of the time index follows `retentionDays` on every
   * open, so the last replica started sets it.
   */
  static async open(
    source: string | MongoClient,
    opts: MongoAuditArchiveOptions = {},
  ): Promise<MongoAuditArchive> {
    const o = Options.parse({
      dbName: opts.dbName,
      collectionPrefix: opts.collectionPrefix,
      retentionDays: opts.retentionDays,
    });
    const { MongoClient } = await loadDriver();
    const owns = typeof source === 'string';
    const client = owns ? new MongoClient(source, { appName: 'meshgate-audit' }) : source;
    try {
      if (owns) await client.connect();
      // Every read goes to the primary: an archiver reads back what it has just written, and the head's
      // compare-and-set must see the latest revision.
      const db = client.db(o.dbName, { readPreference: 'primary' });
      const name = (what: string) => `${o.collectionPrefix}${what}`;
      const archive = new MongoAuditArchive(
        client,
        owns,
        db,
        db.collection<RecordDocument>(name('records')),
        db.collection<HeadDocument>(name('heads')),
        db.collection<CheckpointDocument>(name('checkpoints')),
        db.collection<{ _id: string; next: number }>(name('counters')),
        opts.onCorrupt ?? (() => {}),
      );
      await archive.ensureIndexes(o.retentionDays * 86_400);
      return archive;
    } catch (err) {
      if (owns) await client.close();
      throw err;
    }
  }

  /** Closes the connection when `open` made it. */
  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  async append(entries: readonly ArchiveEntry[]): Promise<AppendResult[]> {
    const records = entries.map(({ event, link }) => ArchiveRecord.parse({ v: 1, event, link }));
    if (records.length === 0) return [];
    const first = await this.takeOrders(records.length);
    const known = await this.insertNew(records.map((record, i) => recordDocument(record, first + i)));
    if (known.size === 0) return records.map((record) => ({ record, created: true }));
    const stored = await this.byIds([...known].map((i) => records[i]!.event.id));
    return records.map((record, i) => {
      if (!known.has(i)) return { record, created: true };
      const found = stored.get(record.event.id);
      if (!found) throw new Error(`the archived record of event ${record.event.id} cannot be read`);
      return { record: found, created: false };
    });
  }

  async appendBlock(entries: readonly ArchiveEntry[]): Promise<AppendResult[]> {
    // The unique index on the event id makes the idempotent append safe for a block as it is.
    blockEntries(entries);
    return this.append(entries);
  }

  async getById(eventId: string): Promise<ArchiveRecord | null> {
    if (!uuid.safeParse(eventId).success) return null;
    const doc = await this.recordDocs.findOne({ _id: { $eq: eventId } });
    return doc ? this.read(doc) : null;
  }

  async getMany(tenant: string, eventIds: readonly string[]): Promise<Map<string, ArchiveRecord>> {
    if (!TenantId.safeParse(tenant).success) return new Map();
    const found = await this.byIds(eventIds);
    for (const [id, record] of found) if (record.event.tenant !== tenant) found.delete(id);
    return found;
  }

  async getManyEvents(tenant: string, events: readonly EventRef[]): Promise<Map<string, ArchiveRecord>> {
    // Every id is indexed: the event times do not help here.
    return this.getMany(
      tenant,
      events.map((e) => e.id),
    );
  }

  /** The records of those ids, of any tenant. */
  private async byIds(eventIds: readonly string[]): Promise<Map<string, ArchiveRecord>> {
    const ids = [...new Set(eventIds)].filter((id) => uuid.safeParse(id).success);
    const found = new Map<string, ArchiveRecord>();
    if (ids.length === 0) return found;
    for await (const doc of this.recordDocs.find({ _id: { $in: ids } })) {
      const record = this.read(doc);
      if (record) found.set(record.event.id, record);
    }
    return found;
  }

  async records(tenant: string, fromSeq: number, limit: number): Promise<ArchiveRecord[]> {
    if (!TenantId.safeParse(tenant).success || !(limit >= 1)) return [];
    const from = z.number().parse(fromSeq);
    const max = Math.floor(limit);
    const out: ArchiveRecord[] = [];
    const docs = this.recordDocs
      .find({ tenant: { $eq: tenant }, seq: { $gte: from } })
      .sort({ seq: 1, order: 1 })
      .batchSize(Math.min(max, 1_000));
    // Unreadable documents are skipped without counting, so a short page means the end, as on every adapter.
    for await (const doc of docs) {
      const record = this.read(doc);
      if (record) out.push(record);
      if (out.length >= max) break;
    }
    return out;
  }

  async head(tenant: string): Promise<StoredChainHead | null> {
    if (!TenantId.safeParse(tenant).success) return null;
    const doc = await this.heads.findOne({ _id: { $eq: tenant } });
    return doc ? storedHeadOf(tenant, doc) : null;
  }

  async setHead(tenant: string, head: ChainHead, expectedRevision: number): Promise<number> {
    const expected = Revision.parse(expectedRevision);
    const doc = headDocument(tenant, head, expected + 1);
    if (expected === 0) {
      try {
        const inserted = await this.heads.insertOne(doc);
        if (!inserted.acknowledged) throw new Error('the chain head write was not acknowledged');
        return doc.revision;
      } catch (err) {
        if (isServerError(err, DUPLICATE_KEY)) throw new HeadConflict(tenant, 0);
        throw err;
      }
    }
    const updated = await this.heads.updateOne(
      { _id: { $eq: doc._id }, revision: { $eq: expected } },
      { $set: { head: doc.head, revision: doc.revision } },
    );
    if (!updated.acknowledged) throw new Error('the chain head write was not acknowledged');
    if (updated.matchedCount === 0) throw new HeadConflict(tenant, expected);
    return doc.revision;
  }

  async putCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const { _id, ...rest } = checkpointDocument(checkpoint);
    await this.cps.replaceOne({ _id: { $eq: _id } }, rest, { upsert: true });
  }

  async checkpoints(tenant: string): Promise<Checkpoint[]> {
    if (!TenantId.safeParse(tenant).success) return [];
    const out: Checkpoint[] = [];
    for await (const doc of this.cps.find({ tenant: { $eq: tenant } }).sort({ seq: 1 })) {
      const cp = checkpointOf(tenant, doc);
      if (cp) out.push(cp);
    }
    return out;
  }

  async query(filters: AuditQuery, cursor: string | null, limit: number): Promise<AuditPage> {
    const after = cursor === null ? null : decodeCursor(cursor);
    const { query, filter, sort } = recordQuery(filters, after);
    const max = Math.min(Limit.parse(limit), MAX_PAGE);
    const docs = this.recordDocs
      .find(filter)
      .sort(sort)
      .batchSize(Math.min(max + 1, 1_000));
    const records: ArchiveRecord[] = [];
    let last = after ?? 0;
    try {
      while (records.length < max) {
        const doc = await docs.next();
        if (doc === null) return { records, cursor: null };
        last = orderOf(doc) ?? last;
        const record = this.read(doc);
        if (!record) continue;
        // The filter ran on the document's copies of the fields; the record itself has the last word.
        if (matchesAuditQuery(record.event, query)) records.push(record);
        else this.onCorrupt(record.event.id, "its query fields are not the record's");
      }
      return { records, cursor: (await docs.hasNext()) ? encodeCursor(last) : null };
    } finally {
      await docs.close();
    }
  }

  async ping(): Promise<void> {
    await this.client.db('admin').command({ ping: 1 });
  }

  /** Reserves `n` consecutive places in archive order; returns the first. */
  private async takeOrders(n: number): Promise<number> {
    const take = () =>
      this.counters.findOneAndUpdate(
        { _id: { $eq: 'records' } },
        { $inc: { next: n } },
        { upsert: true, returnDocument: 'after' },
      );
    // Two first upserts racing for the counter: the loser's retry increments the winner's document.
    const counter = await take().catch((err: unknown) => {
      if (isServerError(err, DUPLICATE_KEY)) return take();
      throw err;
    });
    const next = counter?.next;
    if (typeof next !== 'number' || !Number.isSafeInteger(next) || next < n)
      throw new Error('the record order counter is unreadable');
    return next - n + 1;
  }

  /** Inserts every document it can; returns the indexes of those whose id was already stored. */
  private async insertNew(docs: RecordDocument[]): Promise<Set<number>> {
    try {
      await this.recordDocs.insertMany(docs, { ordered: false });
      return new Set();
    } catch (err) {
      const { MongoBulkWriteError } = await loadDriver();
      if (!(err instanceof MongoBulkWriteError) || err.result.getWriteConcernError()) throw err;
      // Only duplicates, and every document accounted for: a batch the driver could not send also ends
      // in this error, carrying the write errors of the batches before it.
      const errors = err.result.getWriteErrors();
      const onlyDuplicates = errors.every((e) => e.code === DUPLICATE_KEY);
      if (!onlyDuplicates || err.result.insertedCount + errors.length !== docs.length) throw err;
      return new Set(errors.map((e) => e.index));
    }
  }

  private read(doc: unknown): ArchiveRecord | null {
    const read = readRecordDocument(doc);
    if (read.ok) return read.record;
    this.onCorrupt(read.id, read.reason);
    return null;
  }

  private async ensureIndexes(ttlSeconds: number): Promise<void> {
    await this.recordDocs.createIndexes([...RECORD_INDEXES]);
    await this.cps.createIndexes([...CHECKPOINT_INDEXES]);
    const wanted = timeIndex(ttlSeconds);
    try {
      await this.recordDocs.createIndexes([wanted]);
    } catch (err) {
      if (!isServerError(err, INDEX_OPTIONS_CONFLICT)) throw err;
      // The time index exists with another TTL: change it in place (MongoDB 5.1 or later), or, when records
      // are now kept forever, rebuild it without one (a TTL cannot be removed in place).
      if (ttlSeconds > 0) {
        await this.db.command({
          collMod: this.recordDocs.collectionName,
          index: { name: TIME_INDEX, expireAfterSeconds: ttlSeconds },
        });
        return;
      }
      await this.recordDocs.dropIndex(TIME_INDEX).catch((dropErr: unknown) => {
        if (!isServerError(dropErr, INDEX_NOT_FOUND)) throw dropErr;
      });
      await this.recordDocs.createIndexes([wanted]);
    }
  }
}
