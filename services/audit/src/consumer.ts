/**
 * The archiver's durable pull consumer on the audit stream (explicit ack, bounded ack-pending, an ack wait
 * that covers a slow write). A message carries one event or a batch of them (contracts' AuditMessage).
 * Events of one tenant are archived in delivery order, in batches of whatever arrived while the previous
 * batch was being written; tenants in parallel. A message is acknowledged only after the records of all its
 * events are written, a redelivered one without a second link. Invalid messages and events go to the dead
 * letter and count as handled, so they never block the consumer.
 *
 * Before a batch is claimed, its messages are marked in progress (`+WPI`, which restarts their ack wait):
 * until half the ack wait has passed since then, no other replica can have them redelivered, so the
 * archiver may write the batch's records as one block (ADR 003).
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import type { AuditArchive, ChainLink } from '@meshgate/store';
import { ensureAuditStream } from '@meshgate/audit';
import { Archiver, type ArchiveOutcome } from './archiver';
import type { AuditConfig } from './config';
import { publishDeadLetter, type DeadLetter } from './dead-letter';
import type { ReadEvent } from './read-event';
import { INLINE_BYTES, inlineReader, type MessageReader, type ReadMessage } from './reader-pool';

export interface ArchiverConsumerOptions {
  nc: NatsConnection;
  archive: AuditArchive;
  config: Pick<AuditConfig, 'stream' | 'consumer' | 'deadLetter'>;
  /** Told once per batch: the links of the events of `tenant` it archived, in seq order. */
  onArchived: (tenant: string, links: ChainLink[]) => void;
  onDuplicate: () => void;
  onDeadLetter: (reason: string, subject: string) => void;
  onError: (err: unknown) => void;
  /** Told when the pull is started afresh (a reconnect, missed heartbeats). */
  onRestart?: (reason: string) => void;
  /** Where messages are read: reader threads (reader-pool.ts) or, by default, this thread. */
  reader?: MessageReader;
}

/** A running consumer. */
export interface ArchiverConsumer {
  /** True while the consumer is subscribed and pulling. */
  alive(): boolean;
  /** Events in the stream not yet archived: not delivered plus delivered but not acknowledged. */
  lag(): Promise<number>;
  stop(): Promise<void>;
}

/** A message being archived: its events left to settle, and whether one of them must come again. */
interface Delivery {
  m: JsMsg;
  left: number;
  /** Set when an event could not be settled: the message is negatively acknowledged after this delay. */
  retryMs?: number;
  done: () => void;
}

/** An event read from its message, waiting in its tenant's queue. */
interface Queued {
  event: ReadEvent;
  delivery: Delivery;
}

/**
 * A message waiting in its tenant's queue, not read yet: a large one is being read on a reader thread
 * already (`reading`), a small one is read with the others when its tenant's next batch is taken (one
 * after the other, which at low rates costs a fraction of reading each as it comes in).
 */
interface Unread {
  m: JsMsg;
  reading?: Promise<ReadMessage>;
  done: () => void;
}

/** A tenant's queue: messages not read yet, then the events read from earlier ones, in delivery order. */
interface TenantQueue {
  unread: Unread[];
  unreadBytes: number;
  events: Queued[];
}

const RETRY_MS = 1_000;
/** Unread bytes that make a batch worth taking at once (some hundreds of events of a few hundred bytes). */
const FULL_BATCH_BYTES = 256 * 1024;
/**
 * Batches of one tenant under way at once: the next one is read, looked up and hashed while the last is
 * written (the archiver claims it only once that write is done, so the records stay in seq order).
 */
const PIPELINE = 2;
const WAITING_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const notFound = (err: unknown, code: number) => err instanceof JetStreamApiError && err.code === code;

/**
 * Closes `messages` (so the pull loop starts a new consume) when the connection was re-established or the
 * server stopped answering the pull: its outstanding pull requests may have died with a restarted server.
 */
async function restartWhenLost(
  nc: NatsConnection,
  messages: ConsumerMessages,
  onRestart: (reason: string) => void,
): Promise<void> {
  const restart = (reason: string) => {
    onRestart(reason);
    void messages.close().catch(() => undefined);
  };
  const closed = messages.closed().then(() => undefined);
  const fromConnection = (async () => {
    for await (const s of nc.status())
      if (s.type === 'reconnect') return 'the NATS connection was re-established';
    return null;
  })();
  const fromPull = (async () => {
    for await (const s of messages.status())
      if (s.type === 'heartbeats_missed' || s.type === 'consumer_not_found' || s.type === 'stream_not_found')
        return `the pull reported ${s.type}`;
    return null;
  })();
  const reason = await Promise.race([closed, fromConnection, fromPull]);
  if (reason) restart(reason);
}

/** Starts pulling; resolves once the stream and the durable consumer exist. */
export async function startArchiverConsumer(opts: ArchiverConsumerOptions): Promise<ArchiverConsumer> {
  const { nc, archive, config } = opts;
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const { name, subjects, maxAgeMs, maxBytes, replicas } = config.stream;
  await ensureAuditStream(jsm, { name, subjects: [subjects], maxAgeMs, maxBytes, replicas });
  await jsm.consumers.info(config.stream.name, config.consumer.durable).catch(async (err: unknown) => {
    if (!notFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(config.stream.name, {
      durable_name: config.consumer.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: config.stream.subjects,
      max_ack_pending: config.consumer.maxAckPending,
      ack_wait: nanos(config.consumer.ackWaitMs),
      max_deliver: -1,
    });
  });

  let stopped = false;
  let messages: ConsumerMessages | null = null;
  const archiver = new Archiver(archive);
  const queues = new Map<string, TenantQueue>();
  const inflight = new Set<Promise<void>>();

  /** Stores a dead letter for a message, or one event of it; false when that failed. */
  const deadLetter = async (
    m: JsMsg,
    reason: string,
    part: Partial<Pick<DeadLetter, 'index' | 'eventId' | 'data'>> = {},
  ): Promise<boolean> => {
    try {
      const letter = { reason, subject: m.subject, streamSeq: m.seq, data: m.data, ...part };
      await publishDeadLetter(js, config.deadLetter, letter, new Date());
      opts.onDeadLetter(reason, m.subject);
      return true;
    } catch (err) {
      opts.onError(err);
      return false;
    }
  };

  /** One event of `delivery` is settled; the last one acknowledges (or negatively) its message. */
  const settled = (delivery: Delivery, retryMs?: number) => {
    if (retryMs !== undefined) delivery.retryMs = Math.max(delivery.retryMs ?? 0, retryMs);
    if (--delivery.left > 0) return;
    if (delivery.retryMs === undefined) delivery.m.ack();
    else delivery.m.nak(delivery.retryMs);
    delivery.done();
  };

  /** Settles each event of a batch by its outcome; resolves once the dead letters of conflicts are stored. */
  const settleBatch = async (tenant: string, batch: Queued[], outcomes: ArchiveOutcome[]) => {
    const archived: ChainLink[] = [];
    const conflicts: Promise<void>[] = [];
    batch.forEach(({ delivery, event }, i) => {
      const outcome = outcomes[i]!;
      if (outcome.status === 'archived') {
        archived.push(outcome.link);
        settled(delivery);
      } else if (outcome.status === 'duplicate') {
        opts.onDuplicate();
        settled(delivery);
      } else if (outcome.status === 'conflict') {
        conflicts.push(
          deadLetter(delivery.m, outcome.reason, { eventId: event.id, data: event.json }).then((stored) =>
            settled(delivery, stored ? undefined : RETRY_MS),
          ),
        );
      } else settled(delivery, WAITING_MS);
    });
    if (archived.length > 0) opts.onArchived(tenant, archived);
    await Promise.all(conflicts);
  };

  // One worker per tenant with queued events: it archives everything queued so far as one batch (up to
  // the claim limit), so a busy tenant costs one head move per batch, not one per event. Up to
  // PIPELINE batches of a tenant are under way at once.
  // A tenant's batches start at most one per `batchWaitMs` unless a full batch is waiting (or the
  // acknowledgements held back near their bound): at low rates a few larger batches, not one per message,
  // cost NATS (on the request path's cores too) far less.
  const lastTaken = new Map<string, number>();
  // A tenant waiting for its next batch sleeps until it is due, or until a full batch is queued (`wake`).
  const wakers = new Map<string, () => void>();
  const nap = (tenant: string, ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(tenant);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.set(tenant, wake);
    });
  const work = async (tenant: string) => {
    const running = new Set<Promise<void>>();
    for (;;) {
      const queue = queues.get(tenant);
      if (!queue || (queue.events.length === 0 && queue.unread.length === 0)) {
        if (running.size === 0) {
          queues.delete(tenant);
          return;
        }
        await Promise.race(running);
        continue;
      }
      if (running.size >= PIPELINE) {
        await Promise.race(running);
        continue;
      }
      const early = config.consumer.batchWaitMs - (Date.now() - (lastTaken.get(tenant) ?? 0));
      if (
        early > 0 &&
        queue.events.length < Archiver.maxBatch &&
        queue.unreadBytes < FULL_BATCH_BYTES &&
        inflight.size < config.consumer.maxAckPending / 2
      ) {
        await nap(tenant, early);
        continue;
      }
      lastTaken.set(tenant, Date.now());
      await readQueued(queue);
      if (queue.events.length === 0) continue;
      const batch = queue.events.splice(0, Archiver.maxBatch);
      const task = archiveQueued(tenant, batch);
      running.add(task);
      void task.finally(() => running.delete(task));
      // Let this batch's claim start before the next batch is taken: claims go in call order.
      await Promise.resolve();
    }
  };

  const archiveQueued = async (tenant: string, batch: Queued[]): Promise<void> => {
    // Restart the ack wait of the batch's messages: none is redelivered elsewhere before `blockUntil`.
    const marked = Date.now();
    for (const delivery of new Set(batch.map((q) => q.delivery))) delivery.m.working();
    try {
      const outcomes = await archiver.archiveBatch(
        tenant,
        batch.map((q) => q.event),
        { blockUntil: marked + config.consumer.ackWaitMs / 2 },
      );
      await settleBatch(tenant, batch, outcomes);
    } catch (err) {
      opts.onError(err);
      for (const q of batch) settled(q.delivery, RETRY_MS);
    }
  };

  const reader = opts.reader ?? inlineReader;

  /** Reads the queue's unread messages in order until a full batch of events is queued. */
  const readQueued = async (queue: TenantQueue): Promise<void> => {
    while (queue.events.length < Archiver.maxBatch && queue.unread.length > 0) {
      const unread = queue.unread.shift()!;
      queue.unreadBytes -= unread.m.data.byteLength;
      let read: ReadMessage;
      try {
        read = await (unread.reading ?? reader.read(unread.m.subject, unread.m.data));
      } catch (err) {
        opts.onError(err);
        unread.m.nak(RETRY_MS);
        unread.done();
        continue;
      }
      const events = await accepted(unread.m, read);
      if (events.length === 0) {
        unread.done();
        continue;
      }
      const delivery: Delivery = { m: unread.m, left: events.length, done: unread.done };
      for (const event of events) queue.events.push({ event, delivery });
    }
  };

  /**
   * The events of a message read to archive: none when it is refused whole or holds none (it is
   * acknowledged once its dead letter is stored) or a dead letter could not be stored (it is negatively
   * acknowledged, to be read again).
   */
  const accepted = async (m: JsMsg, read: ReadMessage): Promise<ReadEvent[]> => {
    if (!read.ok) {
      if (await deadLetter(m, read.reason)) m.ack();
      else m.nak(RETRY_MS);
      return [];
    }
    const letters = await Promise.all(
      read.rejected.map((r) => deadLetter(m, r.reason, { index: r.index, data: r.data })),
    );
    if (letters.includes(false)) {
      m.nak(RETRY_MS);
      return [];
    }
    if (read.events.length === 0) m.ack();
    return read.events;
  };

  /**
   * Queues a message under the tenant its subject names (`mg.audit.<tenant>.<kind>`; reading refuses an
   * event of another); resolves once it is settled.
   */
  const dispatch = (m: JsMsg): Promise<void> =>
    new Promise<void>((done) => {
      const tenant = m.subject.split('.').at(-2) ?? '';
      const unread: Unread = { m, done };
      if (m.data.byteLength >= INLINE_BYTES) {
        unread.reading = reader.read(m.subject, m.data);
        // Awaited when its batch is taken; a failure until then is not an unhandled rejection.
        unread.reading.catch(() => undefined);
      }
      const queue = queues.get(tenant);
      if (queue) {
        queue.unread.push(unread);
        queue.unreadBytes += m.data.byteLength;
        // This message is not counted in flight yet.
        if (queue.unreadBytes >= FULL_BATCH_BYTES || inflight.size + 1 >= config.consumer.maxAckPending / 2)
          wakers.get(tenant)?.();
      } else {
        queues.set(tenant, { unread: [unread], unreadBytes: m.data.byteLength, events: [] });
        void work(tenant);
      }
    });

  const loop = (async () => {
    while (!stopped) {
      try {
        const consumer = await js.consumers.get(config.stream.name, config.consumer.durable);
        const current = await consumer.consume({
          max_messages: Math.min(config.consumer.maxAckPending, 1024),
        });
        messages = current;
        // A pull outstanding when the server restarted is gone with it: start pulling afresh.
        void restartWhenLost(nc, current, (reason) =>
          opts.onError(new Error(`audit consumer restarted: ${reason}`)),
        );
        for await (const m of current) {
          const task = dispatch(m);
          inflight.add(task);
          void task.finally(() => inflight.delete(task));
          if (inflight.size >= config.consumer.maxAckPending) await Promise.race(inflight);
        }
      } catch (err) {
        if (!stopped) opts.onError(err);
      }
      messages = null;
      if (!stopped) await sleep(RETRY_MS);
    }
  })();

  return {
    alive: () => messages !== null && !stopped,
    async lag() {
      const info = await jsm.consumers.info(config.stream.name, config.consumer.durable);
      return info.num_pending + info.num_ack_pending;
    },
    async stop() {
      stopped = true;
      await messages?.close();
      await loop;
      await Promise.all(inflight);
    },
  };
}
