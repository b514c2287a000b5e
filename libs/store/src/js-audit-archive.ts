/**
 * The embedded AuditArchive on JetStream (ADR 003): records `{v:1, event, link}` on the stream
 * `MG_AUDIT_ARCHIVE`, subject `mg.archive.<tenant>.<event id>`, published with `Nats-Msg-Id = event id`, so
 * an event is found by its id with one `last_by_subj` message get and a record costs one write; KV buckets
 * for the chain heads (compare-and-set on the KV revision) and the checkpoints (`<tenant>.<seq>`). A
 * tenant's records are read one by one with `next_by_subj` message gets on `mg.archive.<tenant>.*` (both
 * answered by nats-server 2.9), in append order: seq order for an intact chain.
 */
import { Kvm, type KV } from '@nats-io/kv';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { TenantId } from '@meshgate/contracts';
import { z } from 'zod';
import {
  ArchiveRecord,
  ChainHead,
  Checkpoint,
  HeadConflict,
  InvalidCursor,
  type AppendResult,
  type ArchiveEntry,
  type AuditArchive,
  type AuditPage,
  type StoredChainHead,
} from './audit-archive';
import { matchesAuditQuery, type AuditQuery } from './audit-query';
import { decodeRecord, readHint, scanFrom, type ScanHint } from './js-archive-scan';

/** Names of the stream, subjects and buckets; tests isolate themselves with their own. */
export interface JsAuditArchiveOptions {
  stream?: string;
  /** Subjects are `<subjectPrefix>.<tenant>.<event id>`. */
  subjectPrefix?: string;
  headBucket?: string;
  checkpointBucket?: string;
  /** Retention of the archive stream in ms; 0 keeps records forever (the default). */
  maxAgeMs?: number;
  /** Told about every stored record that cannot be read (it is skipped). */
  onCorrupt?: (streamSeq: number, reason: string) => void;
}

/** Messages one `query` call reads at most before it returns a (possibly short) page with a cursor. */
const QUERY_SCAN_BUDGET = 10_000;
const encoder = new TextEncoder();
const isConflict = (err: unknown) =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
    err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

/** The AuditArchive on JetStream; open it with `JsAuditArchive.open`. */
export class JsAuditArchive implements AuditArchive {
  private readonly hints = new Map<string, ScanHint>();

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly heads: KV,
    private readonly cps: KV,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly opts: JsAuditArchiveOptions,
  ) {}

  /** Binds to the stream and buckets, creating them (file storage) when they are missing. */
  static async open(nc: NatsConnection, opts: JsAuditArchiveOptions = {}): Promise<JsAuditArchive> {
    const stream = opts.stream ?? 'MG_AUDIT_ARCHIVE';
    const prefix = opts.subjectPrefix ?? 'mg.archive';
    const jsm = await jetstreamManager(nc);
    const subjects = [`${prefix}.*.*`];
    const ensureStream = () =>
      jsm.streams.info(stream).then(
        (info) => {
          if (info.config.subjects.join() !== subjects.join())
            throw new Error(
              `the archive stream ${stream} has subjects ${info.config.subjects.join(', ')}, not ${subjects[0]}: ` +
                'it was made by an earlier Meshgate build with another record layout; move it aside or delete it',
            );
        },
        async (err: unknown) => {
          if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
          await jsm.streams.add({
            name: stream,
            subjects,
            storage: StorageType.File,
            max_age: nanos(opts.maxAgeMs ?? 0),
            duplicate_window: nanos(10 * 60_000),
          });
        },
      );
    // Replicas starting together race to create the same stream and buckets; the loser's second attempt
    // finds what the winner made (nats-server 2.9 answers the race with "subjects overlap").
    await ensureStream().catch(ensureStream);
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const bucket = (name: string) => {
      const create = () => kvm.create(name, { history: 1, storage: StorageType.File });
      return create().catch(create);
    };
    const [heads, cps] = await Promise.all([
      bucket(opts.headBucket ?? 'mg_audit_heads'),
      bucket(opts.checkpointBucket ?? 'mg_audit_checkpoints'),
    ]);
    return new JsAuditArchive(js, jsm, heads, cps, stream, prefix, opts);
  }

  async append(entries: readonly ArchiveEntry[]): Promise<AppendResult[]> {
    const records = entries.map(({ event, link }) => ArchiveRecord.parse({ v: 1, event, link }));
    // Every write of the batch is in flight at once: one round trip's wait for the whole batch. A repeated
    // id is caught by the stream's duplicate window (Nats-Msg-Id); the archiver looks every id up with
    // getMany before claiming a link for it, so an older repeat never gets here.
    return Promise.all(records.map((record) => this.appendOne(record)));
  }

  async getById(eventId: string): Promise<ArchiveRecord | null> {
    // Any tenant: a wildcard last-by-subject lookup, which the server answers by scanning its subjects.
    return this.lookUp(`${this.prefix}.*.${eventId}`, eventId);
  }

  async getMany(tenant: string, eventIds: readonly string[]): Promise<Map<string, ArchiveRecord>> {
    if (!TenantId.safeParse(tenant).success) return new Map();
    const ids = [...new Set(eventIds)];
    const found = await Promise.all(ids.map((id) => this.lookUp(`${this.prefix}.${tenant}.${id}`, id)));
    return new Map(found.flatMap((r) => (r ? [[r.event.id, r] as const] : [])));
  }

  async records(tenant: string, fromSeq: number, limit: number): Promise<ArchiveRecord[]> {
    if (!TenantId.safeParse(tenant).success || limit < 1) return [];
    const subject = `${this.prefix}.${tenant}.*`;
    const hint = readHint(this.hints.get(tenant), fromSeq);
    const out: ArchiveRecord[] = [];
    const end = await scanFrom(
      this.jsm,
      this.stream,
      subject,
      hint,
      (record) => {
        if (record.link.seq >= fromSeq) out.push(record);
        return out.length < limit;
      },
      this.opts.onCorrupt,
    );
    this.hints.set(tenant, end);
    return out.sort((a, b) => a.link.seq - b.link.seq);
  }

  async head(tenant: string): Promise<StoredChainHead | null> {
    if (!TenantId.safeParse(tenant).success) return null;
    const entry = await this.heads.get(tenant);
    if (!entry || entry.operation !== 'PUT') return null;
    const parsed = ChainHead.safeParse(safeJson(entry.string()));
    if (!parsed.success) throw new Error(`the chain head of tenant "${tenant}" is unreadable`);
    return { ...parsed.data, revision: entry.revision };
  }

  async setHead(tenant: string, head: ChainHead, expectedRevision: number): Promise<number> {
    TenantId.parse(tenant);
    const value = JSON.stringify(ChainHead.parse(head));
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

  async query(filters: AuditQuery, cursor: string | null, limit: number): Promise<AuditPage> {
    const start = cursor === null ? 1 : parseCursor(cursor);
    const subject = `${this.prefix}.${filters.tenant ?? '*'}.*`;
    const records: ArchiveRecord[] = [];
    let scanned = 0;
    const end = await scanFrom(
      this.jsm,
      this.stream,
      subject,
      { pos: start, maxSeq: 0, maxSeqPos: start },
      (record) => {
        scanned++;
        if (matchesAuditQuery(record.event, filters)) records.push(record);
        return records.length < limit && scanned < QUERY_SCAN_BUDGET;
      },
      this.opts.onCorrupt,
    );
    return { records, cursor: end.exhausted ? null : `s${end.pos}` };
  }

  async ping(): Promise<void> {
    await Promise.all([this.jsm.streams.info(this.stream), this.heads.status()]);
  }

  private async appendOne(record: ArchiveRecord): Promise<AppendResult> {
    const { event } = record;
    const subject = `${this.prefix}.${event.tenant}.${event.id}`;
    const ack = await this.js.publish(subject, encoder.encode(JSON.stringify(record)), { msgID: event.id });
    if (!ack.duplicate) return { record, created: true };
    const stored = await this.readAt(ack.seq);
    if (!stored) throw new Error(`the archived record of event ${event.id} cannot be read`);
    return { record: stored, created: false };
  }

  /** The last record on `subject` (one record's subject), if it is the record of `eventId`. */
  private async lookUp(subject: string, eventId: string): Promise<ArchiveRecord | null> {
    if (!z.uuid().safeParse(eventId).success) return null;
    const msg = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    const record = msg ? decodeRecord(msg, this.opts.onCorrupt) : null;
    return record?.event.id === eventId ? record : null;
  }

  private async readAt(streamSeq: number): Promise<ArchiveRecord | null> {
    const msg: StoredMsg | null = await this.jsm.streams.getMessage(this.stream, { seq: streamSeq });
    return msg ? decodeRecord(msg, this.opts.onCorrupt) : null;
  }
}

function parseCursor(cursor: string): number {
  const m = /^s([1-9]\d{0,15})$/.exec(cursor);
  if (!m?.[1]) throw new InvalidCursor(cursor);
  return Number(m[1]);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
