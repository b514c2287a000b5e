/**
 * Sequential reads of the embedded archive stream: one `next_by_subj` message get per record (answered by
 * nats-server 2.9 and later), decoding each record and skipping unreadable ones. A scan hint remembers
 * where a tenant's previous read stopped, so paging through a long chain does not restart at the beginning.
 */
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { ArchiveRecord } from './audit-archive';

/**
 * A position in the stream: `pos` is the next stream sequence to read and `maxSeq` the largest chain seq
 * among the records before it, so a read of seqs above `maxSeq` may start at `pos`; `maxSeqPos` is where
 * the first record of `maxSeq` is, so a read from `maxSeq` itself (a page that re-reads its cut last seq)
 * may start there.
 */
export interface ScanHint {
  pos: number;
  maxSeq: number;
  maxSeqPos: number;
}

/** Where a scan stopped; `exhausted` when no message was left on the subject. */
export type ScanEnd = ScanHint & { exhausted: boolean };

const decoder = new TextDecoder();

/** The hint when it is valid for reading from `fromSeq`, else the beginning of the stream. */
export function readHint(hint: ScanHint | undefined, fromSeq: number): ScanHint {
  if (hint && fromSeq > hint.maxSeq) return { ...hint };
  if (hint && fromSeq === hint.maxSeq && hint.maxSeq > 0)
    return { pos: hint.maxSeqPos, maxSeq: hint.maxSeq - 1, maxSeqPos: hint.maxSeqPos };
  return { pos: 1, maxSeq: 0, maxSeqPos: 1 };
}

/** Decodes one stored record; null (reported through `onCorrupt`) when it is not a v1 archive record. */
export function decodeRecord(
  msg: StoredMsg,
  onCorrupt?: (streamSeq: number, reason: string) => void,
): ArchiveRecord | null {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(msg.data));
  } catch {
    onCorrupt?.(msg.seq, 'not JSON');
    return null;
  }
  const parsed = ArchiveRecord.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  onCorrupt?.(msg.seq, `not an archive record: ${issue ? `${issue.path.join('.')}: ${issue.message}` : ''}`);
  return null;
}

/**
 * Reads the records on `subject` from `start`, calling `visit` for each until it returns false or the
 * subject has no more messages.
 */
export async function scanFrom(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  start: ScanHint,
  visit: (record: ArchiveRecord) => boolean,
  onCorrupt?: (streamSeq: number, reason: string) => void,
): Promise<ScanEnd> {
  let { pos, maxSeq, maxSeqPos } = start;
  for (;;) {
    // `next_by_subj` is in the server's message-get API but missing from the client's MsgRequest type.
    const query = { seq: pos, next_by_subj: subject } as unknown as { seq: number };
    const msg = await jsm.streams.getMessage(stream, query);
    if (!msg) return { pos, maxSeq, maxSeqPos, exhausted: true };
    pos = msg.seq + 1;
    const record = decodeRecord(msg, onCorrupt);
    if (!record) continue;
    if (record.link.seq > maxSeq) {
      maxSeq = record.link.seq;
      maxSeqPos = msg.seq;
    }
    if (!visit(record)) return { pos, maxSeq, maxSeqPos, exhausted: false };
  }
}
