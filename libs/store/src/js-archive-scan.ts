/**
 * Sequential reads of the embedded archive stream. A message holds one record `{v:1, event, link}` (the
 * layout of `append` and of earlier builds) or a block `{v:2, records: [...]}` (`appendBlock`); both decode
 * here, unreadable messages and records being skipped and reported. `scanMessages` reads with one
 * `next_by_subj` message get per message (nats-server 2.9 and later), for pages; `readRange` streams a
 * range through an ordered consumer, for the bulk reads of the id index. A scan hint remembers where a
 * tenant's previous read stopped, so paging through a long chain does not restart at the beginning.
 */
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StoredMsg,
} from '@nats-io/jetstream';
import { z } from 'zod';
import { ArchiveRecord } from './audit-archive';

/** Told about every stored message or record that cannot be read (it is skipped). */
export type OnCorrupt = (streamSeq: number, reason: string) => void;

/** A stored message of the archive stream, however it was read. */
export interface ArchiveMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  /** The server's time of storing it, in ms. */
  timeMs: number;
}

/**
 * A position in the stream for reading one tenant's records: `pos` is the next stream seq to read and
 * `maxSeq` the largest chain seq among the records before it, so a read of seqs above `maxSeq` may start
 * at `pos`; `lastPos` is the last message read and `lastMaxSeq` the largest chain seq before it, so a read
 * from a seq inside that message (a page cut inside a block, or re-reading its cut last seq) may start there.
 */
export interface ScanHint {
  pos: number;
  maxSeq: number;
  lastPos: number;
  lastMaxSeq: number;
}

const START: ScanHint = { pos: 1, maxSeq: 0, lastPos: 1, lastMaxSeq: 0 };
const decoder = new TextDecoder();
const Block = z.object({ v: z.literal(2), records: z.array(z.unknown()).min(1) });

/** The hint when it is valid for reading from `fromSeq`, else the beginning of the stream. */
export function readHint(hint: ScanHint | undefined, fromSeq: number): ScanHint {
  if (hint && fromSeq > hint.maxSeq) return { ...hint };
  if (hint && fromSeq > hint.lastMaxSeq)
    return { pos: hint.lastPos, maxSeq: hint.lastMaxSeq, lastPos: hint.lastPos, lastMaxSeq: hint.lastMaxSeq };
  return { ...START };
}

/** The hint after reading the message at `streamSeq` with those records. */
export function advanceHint(
  hint: ScanHint,
  streamSeq: number,
  records: readonly (ArchiveRecord | null)[],
): ScanHint {
  const seqs = records.flatMap((r) => (r ? [r.link.seq] : []));
  return {
    pos: streamSeq + 1,
    maxSeq: Math.max(hint.maxSeq, ...seqs),
    lastPos: streamSeq,
    lastMaxSeq: hint.maxSeq,
  };
}

/**
 * The records of one stored message in their order, null for each unreadable record of a block; empty
 * for an unreadable message. Both are reported through `onCorrupt`.
 */
export function decodeRecords(
  msg: Pick<ArchiveMessage, 'seq' | 'data'>,
  onCorrupt?: OnCorrupt,
): (ArchiveRecord | null)[] {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(msg.data));
  } catch {
    onCorrupt?.(msg.seq, 'not JSON');
    return [];
  }
  const isBlock = typeof raw === 'object' && raw !== null && 'v' in raw && raw.v === 2;
  if (!isBlock) {
    const record = parseRecord(raw, (reason) => onCorrupt?.(msg.seq, `not an archive record: ${reason}`));
    return record ? [record] : [];
  }
  const block = Block.safeParse(raw);
  if (!block.success) {
    onCorrupt?.(msg.seq, `not an archive block: ${describe(block.error)}`);
    return [];
  }
  return block.data.records.map((r, i) =>
    parseRecord(r, (reason) => onCorrupt?.(msg.seq, `record ${i} of the block is unreadable: ${reason}`)),
  );
}

function parseRecord(raw: unknown, onError: (reason: string) => void): ArchiveRecord | null {
  const parsed = ArchiveRecord.safeParse(raw);
  if (parsed.success) return parsed.data;
  onError(describe(parsed.error));
  return null;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.')}: ${issue.message}` : '';
}

/** The first message on `subject` at or after stream seq `from`, or null. */
export async function nextMessage(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  from: number,
): Promise<ArchiveMessage | null> {
  // `next_by_subj` is in the server's message-get API but missing from the client's MsgRequest type.
  const query = { seq: from, next_by_subj: subject } as unknown as { seq: number };
  const msg = await jsm.streams.getMessage(stream, query);
  return msg ? storedMessage(msg) : null;
}

/** A message read with a message get. */
function storedMessage(msg: StoredMsg): ArchiveMessage {
  return { seq: msg.seq, subject: msg.subject, data: msg.data, timeMs: msg.time.getTime() };
}

function consumedMessage(msg: JsMsg): ArchiveMessage {
  return { seq: msg.seq, subject: msg.subject, data: msg.data, timeMs: msg.info.timestampNanos / 1e6 };
}

/**
 * Reads the messages on `subject` from stream seq `from`, one message get each, calling `visit` for each
 * until it returns false or the subject has no more messages; `next` is the stream seq after the last
 * message read.
 */
export async function scanMessages(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  from: number,
  visit: (msg: ArchiveMessage) => boolean,
): Promise<{ next: number; exhausted: boolean }> {
  let pos = from;
  for (;;) {
    const msg = await nextMessage(jsm, stream, subject, pos);
    if (!msg) return { next: pos, exhausted: true };
    pos = msg.seq + 1;
    if (!visit(msg)) return { next: pos, exhausted: false };
  }
}

/**
 * Streams the messages on `subject` with stream seqs from `from` to `to` (inclusive; to the last one
 * present when it starts if absent) to `visit`, through an ordered consumer: one request per batch
 * instead of one per message.
 */
export async function readRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  range: { subject: string; from: number; to?: number },
  visit: (msg: ArchiveMessage) => void,
): Promise<void> {
  const { subject, to } = range;
  // The consumer waits for messages that do not exist yet: only start it on one that does.
  const first = await nextMessage(jsm, stream, subject, range.from);
  if (!first || (to !== undefined && first.seq > to)) return;
  const consumer = await js.consumers.get(stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: first.seq,
  });
  try {
    for (let done = false; !done;) {
      // A count, not bytes: nats.js fails a fetch the server ends with "message size exceeds maxbytes".
      // 128 messages are at most ~115 MB of full blocks, typically a few MB.
      const batch = await consumer.fetch({ max_messages: 128, expires: 5_000 });
      let got = 0;
      for await (const msg of batch) {
        got++;
        if (to !== undefined && msg.seq > to) done = true;
        else visit(consumedMessage(msg));
        if (done || msg.info.pending === 0 || msg.seq === to) {
          done = true;
          break;
        }
      }
      // An empty batch: the rest was deleted (retention) while reading.
      if (got === 0) done = true;
    }
  } finally {
    try {
      await consumer.delete();
    } catch {
      // Not created, or gone: an ordered consumer also expires on its own after its inactive threshold.
    }
  }
}
