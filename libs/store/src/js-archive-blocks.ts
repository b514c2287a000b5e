/**
 * The block layout of the embedded archive: the records of one `appendBlock` call in one message
 * `{"v":2,"records":[{v:1,event,link},...]}` on `<prefix>.<tenant>.b<first chain seq>`, published with
 * `Nats-Msg-Id = <tenant>.b<first seq>.<last seq>` so that an identical retry is stored once. A batch whose
 * encoding would come near the NATS payload limit (1 MiB by default) is split into several blocks.
 */
import type { ArchiveRecord } from './audit-archive';

/** Encoded bytes one block holds at most (beyond one record), below the default 1 MiB max_payload. */
export const MAX_BLOCK_BYTES = 900_000;

/** One block to publish. */
export interface EncodedBlock {
  records: ArchiveRecord[];
  subject: string;
  msgId: string;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const OPEN = '{"v":2,"records":[';
const CLOSE = ']}';

/**
 * The blocks holding `records` (one tenant's, in order), each at most `maxBytes` long unless a single
 * record is longer. `eventJson` gives a record's event as JSON text where the caller has it already.
 */
export function encodeBlocks(
  prefix: string,
  records: readonly ArchiveRecord[],
  maxBytes = MAX_BLOCK_BYTES,
  eventJson: (record: ArchiveRecord) => string | undefined = () => undefined,
): EncodedBlock[] {
  const blocks: EncodedBlock[] = [];
  let part: ArchiveRecord[] = [];
  let texts: string[] = [];
  let bytes = OPEN.length + CLOSE.length;
  const flush = () => {
    if (part.length > 0) blocks.push(block(prefix, part, texts));
    part = [];
    texts = [];
    bytes = OPEN.length + CLOSE.length;
  };
  for (const record of records) {
    const json = eventJson(record);
    const text =
      json === undefined
        ? JSON.stringify(record)
        : `{"v":1,"event":${json},"link":${JSON.stringify(record.link)}}`;
    // Each record after the first of a block is preceded by a comma.
    const size = Buffer.byteLength(text);
    if (part.length > 0 && bytes + 1 + size > maxBytes) flush();
    bytes += size + (part.length > 0 ? 1 : 0);
    part.push(record);
    texts.push(text);
  }
  flush();
  return blocks;
}

function block(prefix: string, records: ArchiveRecord[], texts: readonly string[]): EncodedBlock {
  const { tenant } = records[0]!.event;
  const first = records[0]!.link.seq;
  const last = records.at(-1)!.link.seq;
  return {
    records,
    subject: `${prefix}.${tenant}.b${first}`,
    msgId: `${tenant}.b${first}.${last}`,
    data: encoder.encode(OPEN + texts.join(',') + CLOSE),
  };
}
