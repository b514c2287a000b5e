/**
 * The documents of the MongoDB audit archive and the queries over them, as pure functions (no connection, no
 * driver at run time), so that the mapping is tested without a server. A record document keeps the record
 * `{v, event, link}` as its JSON text: event arguments are agents' JSON, whose keys (`$ref`, dots, NUL) BSON
 * cannot store or give back unchanged, and a record must come back byte for byte or its hash breaks. Beside
 * the text it holds copies of the fields queries filter and sort on; a document whose copies disagree with
 * its record is unreadable (tampering), never silently trusted.
 */
import { inspect } from 'node:util';
import { z } from 'zod';
import type { Filter, IndexDescription, Sort } from 'mongodb';
import { TenantId } from '@meshgate/contracts';
import { ArchiveRecord, ChainHead, Checkpoint, InvalidCursor, type StoredChainHead } from './audit-archive';
import { AuditQuery } from './audit-query';

/** One archived event as stored; `_id` is the event id, `order` its place in archive (storage) order. */
export interface RecordDocument {
  _id: string;
  tenant: string;
  seq: number;
  /** The event's own time, a BSON date for range queries and the TTL index. */
  time: Date;
  order: number;
  kind: string;
  traceId: string;
  principal?: string;
  server?: string;
  target?: string;
  outcome?: string;
  /** The record `{v, event, link}` as JSON text. */
  record: string;
}

/** A tenant's chain head; `revision` is what a compare-and-set names. */
export interface HeadDocument {
  _id: string;
  revision: number;
  head: ChainHead;
}

/** A checkpoint, one per tenant and seq (`_id` = `<tenant>.<seq>`). */
export interface CheckpointDocument {
  _id: string;
  tenant: string;
  seq: number;
  checkpoint: Checkpoint;
}

/** The name of the index on `time`, which carries the TTL when retention is set. */
export const TIME_INDEX = 'time';

/**
 * Indexes of the record collection besides `_id` and the time index. Every query sorts on `order`, so each
 * index ends with it and serves its filter and the sort at once; the audit API always names a tenant, so the
 * filter indexes lead with it. `tenant_seq` is not unique: tampering can store two records with one seq, and
 * `records()` must return both.
 */
export const RECORD_INDEXES: readonly IndexDescription[] = [
  { name: 'tenant_seq', key: { tenant: 1, seq: 1, order: 1 } },
  { name: 'tenant_order', key: { tenant: 1, order: 1 } },
  { name: 'tenant_time', key: { tenant: 1, time: 1, order: 1 } },
  { name: 'tenant_principal', key: { tenant: 1, principal: 1, order: 1 } },
  { name: 'tenant_server', key: { tenant: 1, server: 1, order: 1 } },
  { name: 'tenant_target', key: { tenant: 1, target: 1, order: 1 } },
  { name: 'tenant_kind', key: { tenant: 1, kind: 1, order: 1 } },
  { name: 'tenant_outcome', key: { tenant: 1, outcome: 1, order: 1 } },
  { name: 'trace', key: { traceId: 1, order: 1 } },
  { name: 'order', key: { order: 1 } },
];

/** The index on `time`: plain, or a TTL index deleting a record `ttlSeconds` after its event's time. */
export function timeIndex(ttlSeconds: number | undefined): IndexDescription {
  return { name: TIME_INDEX, key: { time: 1 }, ...(ttlSeconds ? { expireAfterSeconds: ttlSeconds } : {}) };
}

/** Indexes of the checkpoint collection besides `_id`. */
export const CHECKPOINT_INDEXES: readonly IndexDescription[] = [
  { name: 'tenant_seq', key: { tenant: 1, seq: 1 } },
];

/** The document of `record` (already validated) at place `order`. */
export function recordDocument(record: ArchiveRecord, order: number): RecordDocument {
  const { event, link } = record;
  return {
    _id: event.id,
    tenant: event.tenant,
    seq: link.seq,
    time: new Date(Date.parse(event.time)),
    order,
    kind: event.kind,
    traceId: event.traceId,
    ...(event.principal !== undefined ? { principal: event.principal } : {}),
    ...(event.server !== undefined ? { server: event.server } : {}),
    ...(event.target !== undefined ? { target: event.target } : {}),
    ...('outcome' in event && event.outcome !== undefined ? { outcome: event.outcome } : {}),
    record: JSON.stringify(record),
  };
}

/** What reading a stored document gives: its record, or why it cannot be read. */
export type ReadRecord = { ok: true; record: ArchiveRecord } | { ok: false; id: string; reason: string };

const StoredRecord = z.object({
  _id: z.string(),
  tenant: z.string(),
  seq: z.number(),
  time: z.date(),
  record: z.string(),
});

/** Reads a stored record document, checking that its id, tenant, seq and time are the record's own. */
export function readRecordDocument(doc: unknown): ReadRecord {
  const id = idOf(doc);
  const row = StoredRecord.safeParse(doc);
  if (!row.success) return { ok: false, id, reason: `not a record document: ${firstIssue(row.error)}` };
  let raw: unknown;
  try {
    raw = JSON.parse(row.data.record);
  } catch {
    return { ok: false, id, reason: 'not JSON' };
  }
  const parsed = ArchiveRecord.safeParse(raw);
  if (!parsed.success) return { ok: false, id, reason: `not an archive record: ${firstIssue(parsed.error)}` };
  const { event, link } = parsed.data;
  const mismatch =
    row.data._id !== event.id
      ? '_id'
      : row.data.tenant !== event.tenant
        ? 'tenant'
        : row.data.seq !== link.seq
          ? 'seq'
          : row.data.time.getTime() !== Date.parse(event.time)
            ? 'time'
            : null;
  if (mismatch) return { ok: false, id, reason: `its ${mismatch} is not the record's` };
  return { ok: true, record: parsed.data };
}

/** The `order` of a stored document, or null when it has none that a cursor could name. */
export function orderOf(doc: unknown): number | null {
  const order = doc && typeof doc === 'object' && 'order' in doc ? doc.order : undefined;
  return typeof order === 'number' && Number.isSafeInteger(order) && order >= 0 ? order : null;
}

/** The filter and sort of a query page; `filters` are validated first (a filter value is always a string). */
export function recordQuery(
  filters: AuditQuery,
  after: number | null,
): { query: AuditQuery; filter: Filter<RecordDocument>; sort: Sort } {
  const q = AuditQuery.parse(filters);
  const filter: Filter<RecordDocument> = {};
  if (q.tenant !== undefined) filter.tenant = { $eq: q.tenant };
  if (q.principal !== undefined) filter.principal = { $eq: q.principal };
  if (q.server !== undefined) filter.server = { $eq: q.server };
  if (q.target !== undefined) filter.target = { $eq: q.target };
  if (q.kind !== undefined) filter.kind = { $eq: q.kind };
  if (q.outcome !== undefined) filter.outcome = { $eq: q.outcome };
  if (q.traceId !== undefined) filter.traceId = { $eq: q.traceId };
  if (q.from !== undefined || q.to !== undefined)
    filter.time = {
      ...(q.from !== undefined ? { $gte: new Date(Date.parse(q.from)) } : {}),
      ...(q.to !== undefined ? { $lt: new Date(Date.parse(q.to)) } : {}),
    };
  if (after !== null) filter.order = { $gt: after };
  return { query: q, filter, sort: { order: 1 } };
}

const CURSOR = /^m(0|[1-9]\d{0,15})$/;

/** The cursor continuing after the record at `order`. */
export function encodeCursor(order: number): string {
  if (!Number.isSafeInteger(order) || order < 0) throw new RangeError(`not a record order: ${order}`);
  return `m${order}`;
}

/** The order a cursor of this adapter continues after; throws InvalidCursor for anything else. */
export function decodeCursor(cursor: string): number {
  const digits = typeof cursor === 'string' ? CURSOR.exec(cursor)?.[1] : undefined;
  const order = digits === undefined ? NaN : Number(digits);
  if (!Number.isSafeInteger(order)) throw new InvalidCursor(String(cursor));
  return order;
}

/** The document of `tenant`'s head at `revision`; throws when the tenant or head is invalid. */
export function headDocument(tenant: string, head: ChainHead, revision: number): HeadDocument {
  return { _id: TenantId.parse(tenant), revision, head: ChainHead.parse(head) };
}

const StoredHead = z.object({ revision: z.number().int().positive(), head: ChainHead });

/** The head a stored head document holds; throws when it cannot be read, as a head must never be guessed. */
export function storedHeadOf(tenant: string, doc: unknown): StoredChainHead {
  const parsed = StoredHead.safeParse(doc);
  if (!parsed.success) throw new Error(`the chain head of tenant "${tenant}" is unreadable`);
  return { ...parsed.data.head, revision: parsed.data.revision };
}

/** The document of a checkpoint; throws when it is invalid. */
export function checkpointDocument(checkpoint: Checkpoint): CheckpointDocument {
  const cp = Checkpoint.parse(checkpoint);
  return { _id: `${cp.tenant}.${cp.seq}`, tenant: cp.tenant, seq: cp.seq, checkpoint: cp };
}

/** The checkpoint of `tenant` a stored document holds, or null when it is not one. */
export function checkpointOf(tenant: string, doc: unknown): Checkpoint | null {
  const parsed = z.object({ checkpoint: Checkpoint }).safeParse(doc);
  return parsed.success && parsed.data.checkpoint.tenant === tenant ? parsed.data.checkpoint : null;
}

function idOf(doc: unknown): string {
  const id: unknown = doc && typeof doc === 'object' && '_id' in doc ? doc._id : undefined;
  return typeof id === 'string' ? id : inspect(id, { depth: 0, breakLength: Infinity });
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.')}: ${issue.message}` : '';
}
