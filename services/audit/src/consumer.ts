/**
 * The archiver's durable pull consumer on the audit stream (explicit ack, bounded ack-pending, an ack wait
 * that covers a slow write). Events of one tenant are archived in delivery order, in batches of whatever
 * arrived while the previous batch was being written; tenants in parallel. A message is acknowledged only
 * after its record is written, a redelivered one without a second link. Invalid events go to the dead letter and are acknowledged, so they never block the consumer.
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
import type { AuditEvent } from '@meshgate/contracts';
import type { AuditArchive, ChainLink } from '@meshgate/store';
import { ensureAuditStream } from '@meshgate/audit';
import { Archiver, type ArchiveOutcome } from './archiver';
import type { AuditConfig } from './config';
import { publishDeadLetter } from './dead-letter';
import { readEventMessage } from './event-message';

export interface ArchiverConsumerOptions {
  nc: NatsConnection;
  archive: AuditArchive;
  config: Pick<AuditConfig, 'stream' | 'consumer' | 'deadLetter'>;
  onArchived: (tenant: string, link: ChainLink) => void;
  onDuplicate: () => void;
  onDeadLetter: (reason: string, subject: string) => void;
  onError: (err: unknown) => void;
  /** Told when the pull is started afresh (a reconnect, missed heartbeats). */
  onRestart?: (reason: string) => void;
}

/** A running consumer. */
export interface ArchiverConsumer {
  /** True while the consumer is subscribed and pulling. */
  alive(): boolean;
  /** Events in the stream not yet archived: not delivered plus delivered but not acknowledged. */
  lag(): Promise<number>;
  stop(): Promise<void>;
}

/** A message waiting in its tenant's queue, and how to tell the pull loop it is handled. */
interface Queued {
  m: JsMsg;
  event: AuditEvent;
  done: () => void;
}

const RETRY_MS = 1_000;
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
  const queues = new Map<string, Queued[]>();
  const inflight = new Set<Promise<void>>();

  const deadLetter = async (m: JsMsg, reason: string) => {
    try {
      const letter = { reason, subject: m.subject, streamSeq: m.seq, data: m.data };
      await publishDeadLetter(js, config.deadLetter, letter, new Date());
      m.ack();
      opts.onDeadLetter(reason, m.subject);
    } catch (err) {
      opts.onError(err);
      m.nak(RETRY_MS);
    }
  };

  const settle = async ({ m, event }: Queued, outcome: ArchiveOutcome) => {
    if (outcome.status === 'archived') {
      m.ack();
      opts.onArchived(event.tenant, outcome.link);
    } else if (outcome.status === 'duplicate') {
      m.ack();
      opts.onDuplicate();
    } else if (outcome.status === 'conflict') await deadLetter(m, outcome.reason);
    else m.nak(WAITING_MS);
  };

  // One worker per tenant with queued events: it archives everything queued so far as one batch (up to
  // the claim limit), so a busy tenant costs one head move per batch, not one per event.
  const work = async (tenant: string) => {
    for (;;) {
      const queue = queues.get(tenant);
      if (!queue || queue.length === 0) {
        queues.delete(tenant);
        return;
      }
      const batch = queue.splice(0, Archiver.maxBatch);
      try {
        const outcomes = await archiver.archiveBatch(
          tenant,
          batch.map((q) => q.event),
        );
        await Promise.all(batch.map((q, i) => settle(q, outcomes[i]!)));
      } catch (err) {
        opts.onError(err);
        for (const q of batch) q.m.nak(RETRY_MS);
      }
      for (const q of batch) q.done();
    }
  };

  const dispatch = (m: JsMsg): Promise<void> => {
    const read = readEventMessage(m.subject, m.data);
    if (!read.ok) return deadLetter(m, read.reason);
    const tenant = read.event.tenant;
    return new Promise<void>((done) => {
      const queue = queues.get(tenant);
      if (queue) queue.push({ m, event: read.event, done });
      else {
        queues.set(tenant, [{ m, event: read.event, done }]);
        void work(tenant);
      }
    });
  };

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
