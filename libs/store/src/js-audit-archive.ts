/**
 * The embedded AuditArchive on JetStream (ADR 003): records on the stream `MG_AUDIT_ARCHIVE`, in two
 * layouts under `mg.archive.<tenant>.*`: a block of the records of one `appendBlock` call on
 * `.b<first chain seq>` (js-archive-blocks.ts), and a single record `{v:1, event, link}` on `.<event id>`
 * with `Nats-Msg-Id = event id` (`append`, and every record of earlier builds), so that racing appends of
 * one event are stored once. Ids are found through an in-memory index kept current from the stream
 * (js-archive-lookup.ts). KV buckets hold the chain heads (compare-and-set on the KV revision) and the
 * checkpoints (`<tenant>.<seq>`). A tenant's records are read one message at a time with `next_by_subj`
 * message gets on `mg.archive.<tenant>.*` (answered by nats-server 2.9), in append order: seq order for
 * an intact chain.
 */
import { Kvm, type KV } from '@nats-io/kv';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { TenantId } from '@meshgate/contracts';
import { z } from 'zod';
import {
  ArchiveRecord,
  ChainHead,
  Checkpoint,
  HeadConflict,
  blockEntries,
  blockRecord,
  chainHeadJson,
  type AppendResult,
  type ArchiveEntry,
  type AuditArchive,
  type AuditPage,
  type BlockEntry,
  type EventRef,
  type LookupOptions,
  type StoredChainHead,
} from './audit-archive';
import type { AuditQuery } from './audit-query';
import { encodeBlocks } from './js-archive-blocks';
import { ArchiveLookup, type LookupRef } from './js-archive-lookup';
import { queryPage, recordsPage, type PageSource } from './js-archive-pages';
import { decodeRecords, readHint, type OnCorrupt, type ScanHint } from './js-archive-scan';
import { ensureArchiveStream, ensureBucket } from './js-archive-storage';

/** Names of the stream, subjects and buckets (tests isolate themselves with their own), and the id index. */
export interface JsAuditArchiveOptions {
  stream?: string;
  /** Subjects are `<subjectPrefix>.<tenant>.<event id or b<first chain seq>>`. */
  subjectPrefix?: string;
  headBucket?: string;
  checkpointBucket?: string;
  /** Retention of the archive stream in ms; 0 keeps records forever (the default). */
  maxAgeMs?: number;
  /** Ids the in-memory index holds, the newest (default 1,000,000); older ones are found by scanning. */
  indexMaxIds?: number;
  /** How much earlier than its event's time a record may be stored (clocks apart), in ms; default 10 s. */
  clockSkewMs?: number;
  /** Told about every stored message or record that cannot be read (it is skipped). */
  onCorrupt?: OnCorrupt;
}

const encoder = new TextEncoder();
const uuid = z.uuid();
/** `uuid.safeParse(id).success`, without a result object per id (the archiver looks up thousands a batch). */
const isUuid = (id: string) => uuid.def.pattern?.test(id) ?? uuid.safeParse(id).success;
const isConflict = (err: unknown) =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
    err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

/** The AuditArchive on JetStream; open it with `JsAuditArchive.open`. */
export class JsAuditArchive implements AuditArchive {
  private readonly hints = new Map<string, ScanHint>();
  private readonly lookup: ArchiveLookup;
  private readonly pages: PageSource;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly heads: KV,
    private readonly cps: KV,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly opts: JsAuditArchiveOptions,
  ) {
    this.pages = { jsm, stream, onCorrupt: opts.onCorrupt };
    this.lookup = new ArchiveLookup(js, jsm, {
      stream,
      prefix,
      maxIds: opts.indexMaxIds ?? 1_000_000,
      clockSkewMs: opts.clockSkewMs ?? 10_000,
      onCorrupt: opts.onCorrupt,
    });
  }

  /** Binds to the stream and buckets, creating them (file storage) when they are missing. */
  static async open(nc: NatsConnection, opts: JsAuditArchiveOptions = {}): Promise<JsAuditArchive> {
    const stream = opts.stream ?? 'MG_AUDIT_ARCHIVE';
    const prefix = opts.subjectPrefix ?? 'mg.archive';
    const jsm = await jetstreamManager(nc);
    await ensureArchiveStream(jsm, stream, prefix, opts.maxAgeMs ?? 0);
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const [heads, cps] = await Promise.all([
      ensureBucket(kvm, opts.headBucket ?? 'mg_audit_heads'),
      ensureBucket(kvm, opts.checkpointBucket ?? 'mg_audit_checkpoints'),
    ]);
    return new JsAuditArchive(js, jsm, heads, cps, stream, prefix, opts);
  }

  async append(entries: readonly ArchiveEntry[]): Promise<AppendResult[]> {
    const records = entries.map(({ event, link }) => ArchiveRecord.parse({ v: 1, event, link }));
    if (records.length === 0) return [];
    await this.lookup.sync();
    const tenants = [...new Set(records.map((r) => r.event.tenant))];
    const found = await Promise.all(
      tenants.map((t) =>
        this.lookup.find(t, refsOf(records.flatMap((r) => (r.event.tenant === t ? [r.event] : [])))),
      ),
    );
    const known = new Map(found.flatMap((m) => [...m]));
    // Every write of the batch is in flight at once: one round trip's wait for the whole batch. Racing
    // appends of one id are told apart by the stream's duplicate window (Nats-Msg-Id).
    return Promise.all(
      records.map(async (record) => {
        const stored = known.get(record.event.id);
        return stored ? { record: stored, created: false } : this.appendOne(record);
      }),
    );
  }

  async appendBlock(entries: readonly ArchiveEntry[]): Promise<AppendResult[]> {
    const checked = blockEntries(entries);
    const tenant = checked[0]?.tenant;
    if (tenant === undefined) return [];
    // No one else can be writing these events (the port's contract): what this process knows suffices.
    if (!this.lookup.current) await this.lookup.sync();
    const stored = await this.lookup.find(tenant, checked);
    const fresh = new Map<string, BlockEntry>();
    for (const c of checked) if (!stored.has(c.id) && !fresh.has(c.id)) fresh.set(c.id, c);
    // The parts of a split batch go one after the other, so the stream holds them in chain order.
    for (const block of encodeBlocks(this.prefix, [...fresh.values()])) {
      const ack = await this.js.publish(block.subject, block.data, { msgID: block.msgId });
      const ids = block.entries.map((c) => c.id);
      if (!ack.duplicate) this.lookup.noteWrite(ack.seq, tenant, ids);
      else for (const [id, r] of await this.storedAt(ack.seq, ids)) stored.set(id, r);
    }
    const written = new Set<string>();
    return checked.map(({ id }) => {
      const known = stored.get(id);
      if (known) return { record: known, created: false };
      const created = !written.has(id);
      written.add(id);
      return { record: blockRecord(fresh.get(id)!), created };
    });
  }

  async getById(eventId: string): Promise<ArchiveRecord | null> {
    if (!uuid.safeParse(eventId).success) return null;
    await this.lookup.sync();
    // Any tenant: beyond the index, a scan of the whole stream (not for the archiving path).
    return (await this.lookup.find(null, [{ id: eventId }])).get(eventId) ?? null;
  }

  async getMany(tenant: string, eventIds: readonly string[]): Promise<Map<string, ArchiveRecord>> {
    return this.findOf(
      tenant,
      eventIds.map((id) => ({ id })),
    );
  }

  async getManyEvents(
    tenant: string,
    events: readonly EventRef[],
    opts: LookupOptions = {},
  ): Promise<Map<string, ArchiveRecord>> {
    // An EventRef is a LookupRef: the caller's objects are looked up as they are.
    return this.findOf(tenant, events, opts.soleWriter === true);
  }

  async records(tenant: string, fromSeq: number, limit: number): Promise<ArchiveRecord[]> {
    if (!TenantId.safeParse(tenant).success || limit < 1) return [];
    const start = readHint(this.hints.get(tenant), fromSeq);
    const page = await recordsPage(this.pages, `${this.prefix}.${tenant}.*`, start, fromSeq, limit);
    this.hints.set(tenant, page.hint);
    return page.records;
  }

  async head(tenant: string): Promise<StoredChainHead | null> {
    if (!TenantId.safeParse(tenant).success) return null;
    const entry = await this.heads.get(tenant);
    if (!entry || entry.operation !== 'PUT') return null;
    const parsed = ChainHead.safeParse(safeJson(entry.string()));
    if (!parsed.success) throw new Error(`the chain head of tenant "${tenant}" is unreadable`);
    return { ...parsed.data, revision: entry.revision, storedAt: entry.created.toISOString() };
  }

  async setHead(tenant: string, head: ChainHead, expectedRevision: number): Promise<number> {
    TenantId.parse(tenant);
    const value = chainHeadJson(head);
    try {
      return expectedRevision === 0
        ? await this.heads.create(tenant, value)
        : await this.heads.update(tenant, value, expectedRevision);
    } catch (err) {
      if (isConflict(err)) throw new HeadConflict(tenant, expectedRevision);
      throw err;
    }
  }

  async putCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const cp = Checkpoint.parse(checkpoint);
    await this.cps.put(`${cp.tenant}.${cp.seq}`, JSON.stringify(cp));
  }

  async checkpoints(tenant: string): Promise<Checkpoint[]> {
    if (!TenantId.safeParse(tenant).success) return [];
    const keys: string[] = [];
    for await (const key of await this.cps.keys(`${tenant}.*`)) keys.push(key);
    const entries = await Promise.all(keys.map((k) => this.cps.get(k)));
    return entries
      .map((e) => (e && e.operation === 'PUT' ? Checkpoint.safeParse(safeJson(e.string())) : null))
      .flatMap((p) => (p?.success && p.data.tenant === tenant ? [p.data] : []))
      .sort((a, b) => a.seq - b.seq);
  }

  query(filters: AuditQuery, cursor: string | null, limit: number): Promise<AuditPage> {
    return queryPage(this.pages, `${this.prefix}.${filters.tenant ?? '*'}.*`, filters, cursor, limit);
  }

  async ping(): Promise<void> {
    await Promise.all([this.jsm.streams.info(this.stream), this.heads.status()]);
  }

  private async appendOne(record: ArchiveRecord): Promise<AppendResult> {
    const { event } = record;
    const subject = `${this.prefix}.${event.tenant}.${event.id}`;
    const ack = await this.js.publish(subject, encoder.encode(JSON.stringify(record)), { msgID: event.id });
    if (!ack.duplicate) {
      this.lookup.noteWrite(ack.seq, event.tenant, [event.id]);
      return { record, created: true };
    }
    const stored = await this.storedAt(ack.seq, [event.id]);
    return { record: stored.get(event.id)!, created: false };
  }

  /** The records of those refs; `soleWriter`: what this process read and wrote suffices (LookupOptions). */
  private async findOf(
    tenant: string,
    refs: readonly LookupRef[],
    soleWriter = false,
  ): Promise<Map<string, ArchiveRecord>> {
    if (!TenantId.safeParse(tenant).success) return new Map();
    const valid = refs.every((ref) => isUuid(ref.id)) ? refs : refs.filter((ref) => isUuid(ref.id));
    if (valid.length === 0) return new Map();
    if (!(soleWriter && this.lookup.current)) await this.lookup.sync();
    return this.lookup.find(tenant, valid);
  }

  /** The records of those event ids in the message at `streamSeq` (a duplicate's original); each must be there. */
  private async storedAt(streamSeq: number, ids: readonly string[]): Promise<Map<string, ArchiveRecord>> {
    const msg = await this.jsm.streams.getMessage(this.stream, { seq: streamSeq });
    const records = msg ? decodeRecords(msg, this.opts.onCorrupt) : [];
    const found = new Map(records.flatMap((r) => (r ? [[r.event.id, r] as const] : [])));
    for (const id of ids)
      if (!found.has(id)) throw new Error(`the archived record of event ${id} cannot be read`);
    return found;
  }
}

/** Lookup references of events: their ids and times (parsed only where a lookup needs them). */
function refsOf(events: readonly EventRef[]): LookupRef[] {
  return events.map(({ id, time }) => ({ id, time }));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
