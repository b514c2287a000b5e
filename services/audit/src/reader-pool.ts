/**
 * Where the archiver reads stream messages (event-message.ts): on the archiving thread itself, or on reader
 * threads (reader-worker.ts). Decoding, validating and writing the canonical form of each event is about
 * half of an archiver's work at full load (ADR 003); on a machine with a core to spare, reader threads do it
 * beside the thread that claims, hashes and writes. Either way a message reads as ReadEvents: ids, times
 * and canonical texts as UTF-8, which the chain hashes and the archive stores; a reader thread hands its
 * texts over in one buffer, and the archiving thread parses none of them.
 *
 * Reads may finish out of order across threads: the caller keeps its own order (consumer.ts).
 */
import { Worker } from 'node:worker_threads';
import { readStreamMessage, type RejectedEvent } from './event-message';
import { ReadEvent } from './read-event';

/** A message read: its valid events in order and its rejected ones, or why it is refused whole. */
export type ReadMessage =
  { ok: true; events: ReadEvent[]; rejected: RejectedEvent[] } | { ok: false; reason: string };

/** Reads audit stream messages. */
export interface MessageReader {
  /** The message read; rejects when its reader thread failed (the message should be tried again). */
  read(subject: string, data: Uint8Array): Promise<ReadMessage>;
  close(): Promise<void>;
}

/** A message for a reader thread. */
export interface ReadRequest {
  id: number;
  subject: string;
  data: Uint8Array;
}

/**
 * A reader thread's answer: the events (of the subject's tenant) as ids, times and canonical texts in one
 * buffer, the i-th ending at `ends[i]`; or the message refused; or the reading failed.
 */
export type ReadReply =
  | {
      id: number;
      ok: true;
      ids: string[];
      times: string[];
      ends: Uint32Array;
      bytes: ArrayBuffer;
      rejected: RejectedEvent[];
    }
  | { id: number; ok: false; reason: string }
  | { id: number; error: string };

/** Reads `data` on the calling thread. */
function readHere(subject: string, data: Uint8Array): ReadMessage {
  const read = readStreamMessage(subject, data);
  return read.ok ? { ...read, events: read.events.map((e) => ReadEvent.of(e)) } : read;
}

/** Reads on the calling thread. */
export const inlineReader: MessageReader = {
  read: (subject, data) => Promise.resolve(readHere(subject, data)),
  close: () => Promise.resolve(),
};

const STARTUP_TIMEOUT_MS = 30_000;
/**
 * Messages smaller than this are read on the calling thread: a publisher at one agent's pace sends a few
 * events per message, and handing those to a thread and back costs more than reading them.
 */
export const INLINE_BYTES = 16 * 1024;

interface Pending {
  tenant: string;
  resolve: (read: ReadMessage) => void;
  reject: (err: Error) => void;
}

/** One reader thread and the reads it owes. */
class ReaderThread {
  readonly pending = new Map<number, Pending>();
  private constructor(readonly worker: Worker) {}

  /** Starts a thread; resolves once it runs, rejects when it cannot start. */
  static start(
    spawn: () => Worker,
    onExit: (thread: ReaderThread, err: Error) => void,
  ): Promise<ReaderThread> {
    const thread = new ReaderThread(spawn());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void thread.worker.terminate();
        reject(new Error(`an audit reader thread did not start within ${STARTUP_TIMEOUT_MS / 1000} s`));
      }, STARTUP_TIMEOUT_MS);
      let started = false;
      thread.worker.on('message', (reply: ReadReply | { ready: true }) => {
        if ('ready' in reply) {
          started = true;
          clearTimeout(timer);
          resolve(thread);
        } else thread.settle(reply);
      });
      let dead = false;
      const failed = (err: Error) => {
        if (dead) return;
        dead = true;
        clearTimeout(timer);
        for (const p of thread.pending.values()) p.reject(err);
        thread.pending.clear();
        if (started) onExit(thread, err);
        else reject(err);
      };
      thread.worker.once('error', failed);
      thread.worker.once('exit', (code) => failed(new Error(`an audit reader thread exited (code ${code})`)));
    });
  }

  private settle(reply: ReadReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if ('error' in reply) pending.reject(new Error(`an audit reader thread failed: ${reply.error}`));
    else if (!reply.ok) pending.resolve({ ok: false, reason: reply.reason });
    else {
      const { ids, times, ends, rejected } = reply;
      const bytes = new Uint8Array(reply.bytes);
      const events = ids.map(
        (id, i) => new ReadEvent(id, pending.tenant, times[i]!, bytes.subarray(ends[i - 1] ?? 0, ends[i])),
      );
      pending.resolve({ ok: true, events, rejected });
    }
  }
}

/**
 * The worker: reader-worker.ts, run through tsx as every service is (infra/Dockerfile). A worker does not
 * inherit the main thread's module hooks, so it registers tsx's first.
 */
export function spawnReader(): Worker {
  const script = new URL('./reader-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(script)}); }).then(() => require('node:worker_threads').parentPort.postMessage({ ready: true }));`;
  return new Worker(boot, { eval: true });
}

/**
 * Reads on `threads` reader threads (at least one), each message of {@link INLINE_BYTES} or more on the
 * thread with the fewest reads owed. A thread that dies fails the reads it owed and is replaced; `onError`
 * is told. While no thread runs, messages are read on the calling thread. `spawn` starts a thread (tests
 * start failing ones); it must post `{ ready: true }` once it reads.
 */
export async function startReaderPool(
  threads: number,
  onError: (err: unknown) => void,
  spawn: () => Worker = spawnReader,
): Promise<MessageReader> {
  let closed = false;
  let pool: ReaderThread[] = [];
  const replace = (dead: ReaderThread, err: Error) => {
    pool = pool.filter((t) => t !== dead);
    if (closed) return;
    onError(err);
    ReaderThread.start(spawn, replace).then(
      (fresh) => {
        if (closed) void fresh.worker.terminate();
        else pool.push(fresh);
      },
      (startErr: unknown) => onError(startErr),
    );
  };
  pool = await Promise.all(
    Array.from({ length: Math.max(1, threads) }, () => ReaderThread.start(spawn, replace)),
  );
  let nextId = 0;
  return {
    read(subject, data) {
      if (closed) return Promise.reject(new Error('the audit reader threads are closed'));
      if (pool.length === 0 || data.byteLength < INLINE_BYTES) return inlineReader.read(subject, data);
      const thread = pool.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = ++nextId;
      // A view into a larger buffer would carry all of it to the thread.
      const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
      // A message's events are all of the tenant its subject names (`mg.audit.<tenant>.<kind>`).
      const tenant = subject.split('.').at(-2) ?? '';
      return new Promise<ReadMessage>((resolve, reject) => {
        thread.pending.set(id, { tenant, resolve, reject });
        thread.worker.postMessage({ id, subject, data: own } satisfies ReadRequest);
      });
    },
    async close() {
      closed = true;
      const threads = pool;
      pool = [];
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
