/**
 * A reader thread of the archiver (reader-pool.ts): reads audit stream messages (event-message.ts) and
 * answers each with its events' ids and times and their canonical JSON texts as UTF-8, one after the
 * other in one buffer that is handed over, not copied: the archiving thread parses nothing.
 */
import { parentPort } from 'node:worker_threads';
import { canonical } from './chain';
import { readStreamMessage } from './event-message';
import type { ReadReply, ReadRequest } from './reader-pool';

const port = parentPort;
if (!port) throw new Error('reader-worker.ts runs as a worker thread');
port.on('message', ({ id, subject, data }: ReadRequest) => {
  let reply: ReadReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const read = readStreamMessage(subject, data);
    if (read.ok) {
      const texts = read.events.map((e) => canonical(e));
      const ends = new Uint32Array(texts.length);
      const bytes = Buffer.from(new ArrayBuffer(texts.reduce((n, t) => n + Buffer.byteLength(t), 0)));
      let at = 0;
      texts.forEach((text, i) => (ends[i] = at += bytes.write(text, at)));
      reply = {
        id,
        ok: true,
        ids: read.events.map((e) => e.id),
        times: read.events.map((e) => e.time),
        ends,
        bytes: bytes.buffer,
        rejected: read.rejected,
      };
      transfer = [bytes.buffer, ends.buffer];
    } else reply = { id, ok: false, reason: read.reason };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, transfer);
});
