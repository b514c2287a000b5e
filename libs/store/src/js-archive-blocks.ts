/**
 * The block layout of the embedded archive: the records of one `appendBlock` call in one message
 * `{"v":2,"records":[{v:1,event,link},...]}` on `<prefix>.<tenant>.b<first chain seq>`, published with
 * `Nats-Msg-Id = <tenant>.b<first seq>.<last seq>` so that an identical retry is stored once. A batch whose
 * encoding would come near the NATS payload limit (1 MiB by default) is split into several blocks.
 */
import type { BlockEntry } from './audit-archive';

/** Encoded bytes one block holds at most (beyond one record), below the default 1 MiB max_payload. */
export const MAX_BLOCK_BYTES = 900_000;

/** One block to publish. */
export interface EncodedBlock {
  entries: BlockEntry[];
  subject: string;
  msgId: string;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const OPEN = '{"v":2,"records":[';
const CLOSE = ']}';
const RECORD = '{"v":1,"event":';

/** One record's parts: its event's JSON (UTF-8) and the rest of the record after it (ASCII). */
interface RecordParts {
  json: Uint8Array;
  tail: string;
}

/**
 * The blocks holding the records of `entries` (one tenant's, checked, in order), each at most `maxBytes`
 * long unless a single record is longer. An entry's event is written as its text where it has one, else
 * serialised. The bytes are put together directly: the texts are never joined into one string.
 */
export function encodeBlocks(
  prefix: string,
  entries: readonly BlockEntry[],
  maxBytes = MAX_BLOCK_BYTES,
): EncodedBlock[] {
  const blocks: EncodedBlock[] = [];
  let part: BlockEntry[] = [];
  let parts: RecordParts[] = [];
  let bytes = OPEN.length + CLOSE.length;
  const flush = () => {
    if (part.length > 0) blocks.push(block(prefix, part, parts, bytes));
    part = [];
    parts = [];
    bytes = OPEN.length + CLOSE.length;
  };
  for (const entry of entries) {
    const json = entry.entry.text?.json ?? encoder.encode(JSON.stringify(entry.entry.event));
    const { seq, prevHash, hash } = entry.link;
    // JSON.stringify of the link, whose hashes are checked hex digits.
    const tail = `,"link":{"seq":${seq},"prevHash":"${prevHash}","hash":"${hash}"}}`;
    // Each record after the first of a block is preceded by a comma.
    const size = RECORD.length + json.byteLength + tail.length;
    if (part.length > 0 && bytes + 1 + size > maxBytes) flush();
    bytes += size + (part.length > 0 ? 1 : 0);
    part.push(entry);
    parts.push({ json, tail });
  }
  flush();
  return blocks;
}

function block(
  prefix: string,
  entries: BlockEntry[],
  parts: readonly RecordParts[],
  size: number,
): EncodedBlock {
  const { tenant } = entries[0]!;
  const first = entries[0]!.link.seq;
  const last = entries.at(-1)!.link.seq;
  const data = Buffer.allocUnsafe(size);
  let at = data.write(OPEN, 0, 'latin1');
  parts.forEach(({ json, tail }, i) => {
    if (i > 0) at += data.write(',', at, 'latin1');
    at += data.write(RECORD, at, 'latin1');
    data.set(json, at);
    at += json.byteLength;
    at += data.write(tail, at, 'latin1');
  });
  at += data.write(CLOSE, at, 'latin1');
  if (at !== size) throw new Error(`a block came out ${at} bytes long, not ${size}`);
  return { entries, subject: `${prefix}.${tenant}.b${first}`, msgId: `${tenant}.b${first}.${last}`, data };
}
