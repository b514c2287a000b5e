/**
 * A reader thread of the archiver (reader-pool.ts): reads audit stream messages (event-message.ts) and
 * answers each with its events as canonical JSON texts, so that the archiving thread only parses them.
 */
import { parentPort } from 'node:worker_threads';
import { canonical } from './chain';
import { readStreamMessage } from './event-message';
import type { ReadReply, ReadRequest } from './reader-pool';

const port = parentPort;
if (!port) throw new Error('reader-worker.ts runs as a worker thread');
port.on('message', ({ id, subject, data }: ReadRequest) => {
  let reply: ReadReply;
  try {
    const read = readStreamMessage(subject, data);
    reply = read.ok
      ? { id, ok: true, texts: read.events.map((e) => canonical(e)), rejected: read.rejected }
      : { id, ok: false, reason: read.reason };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
