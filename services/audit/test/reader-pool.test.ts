/** Reader threads read stream messages as the archiving thread would, and a dying thread loses no message. */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { canonicalJson } from '@meshgate/audit';
import type { AuditEvent } from '@meshgate/contracts';
import { readStreamMessage } from '../src/event-message';
import {
  INLINE_BYTES,
  startReaderPool,
  spawnReader,
  type MessageReader,
  type ReadMessage,
} from '../src/reader-pool';
import { responseSent } from './events';

const subject = 'mg.audit.acme.response-sent';
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
/** A batch message of `n` events of acme, the event at `bad` (if any) without its id. */
function batch(n: number, bad?: number): Uint8Array {
  const events = Array.from({ length: n }, (_, i) => {
    const event: Record<string, unknown> = { ...responseSent('acme', i) };
    if (i === bad) delete event['id'];
    return event;
  });
  return bytes({ batch: randomUUID(), events });
}

/** A thread that starts, then dies on the first message it is handed. */
const dyingThread = () =>
  new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.postMessage({ ready: true });
     parentPort.on('message', () => process.exit(3));`,
    { eval: true },
  );

/** An event read as plain data: its id, tenant and time as the reader gives them, its object and its text. */
const fields = (e: Pick<AuditEvent, 'id' | 'tenant' | 'time'>, event: AuditEvent, text: string) => ({
  id: e.id,
  tenant: e.tenant,
  time: e.time,
  event,
  text,
});
/** A message read by a reader, as plain data. */
const plain = (read: ReadMessage) =>
  read.ok ? { ...read, events: read.events.map((e) => fields(e, e.event, e.text())) } : read;
/** What the calling thread reads (event-message.ts), each text the canonical form of its event. */
const readHere = (data: Uint8Array) => {
  const read = readStreamMessage(subject, data);
  return read.ok ? { ...read, events: read.events.map((e) => fields(e, e, canonicalJson(e))) } : read;
};

let pool: MessageReader | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('startReaderPool', () => {
  it('reads a batch on a reader thread as the calling thread does, the canonical forms kept', async () => {
    pool = await startReaderPool(1, (err) => {
      throw err;
    });
    const data = batch(80, 7);
    expect(data.byteLength).toBeGreaterThan(INLINE_BYTES);
    const read = await pool.read(subject, data);
    expect(plain(read)).toEqual(readHere(data));
    if (!read.ok) throw new Error('the batch was refused');
    expect(read.events).toHaveLength(79);
    expect(read.rejected.map((r) => r.index)).toEqual([7]);
    // A small message, and one that is refused whole.
    const one = bytes(responseSent('acme', 1));
    expect(plain(await pool.read(subject, one))).toEqual(readHere(one));
    const junk = new Uint8Array(INLINE_BYTES + 10).fill(0x20);
    expect(await pool.read(subject, junk)).toEqual({ ok: false, reason: 'payload is not UTF-8 JSON' });
  });

  it('fails the reads of a thread that dies, starts another, and reads on', async () => {
    const errors: unknown[] = [];
    let spawned = 0;
    pool = await startReaderPool(
      1,
      (err) => errors.push(err),
      () => (++spawned === 1 ? dyingThread() : spawnReader()),
    );
    const data = batch(100);
    expect(data.byteLength).toBeGreaterThan(INLINE_BYTES);
    await expect(pool.read(subject, data)).rejects.toThrow(/exited \(code 3\)/);
    expect(errors).toHaveLength(1);
    // Until the new thread runs, messages are read here; either way the read is whole.
    for (let i = 0; i < 100 && spawned < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(spawned).toBe(2);
    expect(plain(await pool.read(subject, data))).toEqual(readHere(data));
  });

  it('does not start when a reader thread cannot', async () => {
    await expect(
      startReaderPool(
        1,
        () => undefined,
        () => new Worker('throw new Error("no reader here")', { eval: true }),
      ),
    ).rejects.toThrow(/no reader here/);
  });
});
