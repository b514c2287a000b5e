/**
 * The two paged reads of the embedded archive, over both message layouts: a tenant's records from a chain
 * seq (resuming from a scan hint), and a filtered query whose cursor may stop inside a block
 * (`s<stream seq>.<record index>`; the `s<stream seq>` of earlier builds still reads).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { InvalidCursor, type ArchiveRecord, type AuditPage } from './audit-archive';
import { matchesAuditQuery, type AuditQuery } from './audit-query';
import { advanceHint, decodeRecords, scanMessages, type OnCorrupt, type ScanHint } from './js-archive-scan';

/** The archive stream to read and where to report unreadable messages. */
export interface PageSource {
  jsm: JetStreamManager;
  stream: string;
  onCorrupt?: OnCorrupt | undefined;
}

/** Records one `queryPage` call reads at most before it returns a (possibly short) page with a cursor. */
const QUERY_SCAN_BUDGET = 10_000;

/**
 * Up to `limit` records of `subject` (one tenant's) with chain seqs from `fromSeq`, in seq order, read from
 * `hint` on; returns them with the hint where the read stopped.
 */
export async function recordsPage(
  src: PageSource,
  subject: string,
  start: ScanHint,
  fromSeq: number,
  limit: number,
): Promise<{ records: ArchiveRecord[]; hint: ScanHint }> {
  let hint = start;
  const out: ArchiveRecord[] = [];
  // Whole messages are read: a block may hold more than the page, so the page is cut after sorting.
  await scanMessages(src.jsm, src.stream, subject, hint.pos, (msg) => {
    const records = decodeRecords(msg, src.onCorrupt);
    hint = advanceHint(hint, msg.seq, records);
    for (const r of records) if (r && r.link.seq >= fromSeq) out.push(r);
    return out.length < limit;
  });
  return { records: out.sort((a, b) => a.link.seq - b.link.seq).slice(0, limit), hint };
}

/** A page of the records on `subject` matching `filters`, in storage order, from `cursor` (null: the start). */
export async function queryPage(
  src: PageSource,
  subject: string,
  filters: AuditQuery,
  cursor: string | null,
  limit: number,
): Promise<AuditPage> {
  const start = cursor === null ? { seq: 1, index: 0 } : parseCursor(cursor);
  const records: ArchiveRecord[] = [];
  let scanned = 0;
  let next: string | null = null;
  const end = await scanMessages(src.jsm, src.stream, subject, start.seq, (msg) => {
    const all = decodeRecords(msg, src.onCorrupt);
    for (let i = msg.seq === start.seq ? start.index : 0; i < all.length; i++) {
      const record = all[i];
      if (!record) continue;
      scanned++;
      if (matchesAuditQuery(record.event, filters)) records.push(record);
      if (records.length < limit && scanned < QUERY_SCAN_BUDGET) continue;
      // A page may end inside a block: the cursor names the record after it.
      next = i + 1 < all.length ? `s${msg.seq}.${i + 1}` : `s${msg.seq + 1}`;
      return false;
    }
    return true;
  });
  return { records, cursor: end.exhausted ? null : next };
}

function parseCursor(cursor: string): { seq: number; index: number } {
  const m = /^s([1-9]\d{0,15})(?:\.([1-9]\d{0,3}))?$/.exec(cursor);
  if (!m?.[1]) throw new InvalidCursor(cursor);
  return { seq: Number(m[1]), index: Number(m[2] ?? 0) };
}
