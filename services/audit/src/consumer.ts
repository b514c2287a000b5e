/**
 * The archiver's durable pull consumer on the audit stream (explicit ack, bounded ack-pending, an ack wait
 * that covers a slow write). Events of one tenant are archived one after another in delivery order, tenants
 * in parallel; a message is acknowledged only after its record is written, a redelivered one without a
 * second link. Invalid events go to the dead letter and are acknowledged, so they never block the consumer.
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import type { AuditArchive, ChainLink } from '@meshgate/store';
import { archiveEvent } from './archiver';
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
}

/** A running consumer. */
export interface ArchiverConsumer {
  /** True while the consumer is subscribed and pulling. */
  alive(): boolean;
  /** Events in the stream not yet archived: not delivered plus delivered but not acknowledged. */
  lag(): Promise<number>;
  stop(): Promise<void>;
}

const RETRY_MS = 1_000;
const WAITING_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const notFound = (err: unknown, code: number) => err instanceof JetStreamApiError && err.code === code;

/** Creates the audit stream when it is missing, with the settings the publishers use (ADR 003). */
export async function ensureAuditStream(jsm: JetStreamManager, spec: AuditConfig['stream']): Promise<void> {
  // Replicas starting together race to create it: the loser's second look finds the winner's stream.
  await createAuditStreamIfMissing(jsm, spec).catch(() => createAuditStreamIfMissing(jsm, spec));
}

async function createAuditStreamIfMissing(jsm: JetStreamManager, spec: AuditConfig['stream']): Promise<void> {
  await jsm.streams.info(spec.name).catch(async (err: unknown) => {
    if (!notFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add({
      name: spec.name,
      subjects: [spec.subjects],
      storage: StorageType.File,
      max_age: nanos(spec.maxAgeMs),
      num_replicas: spec.replicas,
      duplicate_window: nanos(10 * 60_000),
    });
  });
}

/** Starts pulling; resolves once the stream and the durable consumer exist. */
export async function startArchiverConsumer(opts: ArchiverConsumerOptions): Promise<ArchiverConsumer> {
  const { nc, archive, config } = opts;
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureAuditStream(jsm, config.stream);
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
  const tails = new Map<string, Promise<void>>();
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

  const archiveOne = async (m: JsMsg, event: Parameters<typeof archiveEvent>[1]) => {
    try {
      const outcome = await archiveEvent(archive, event);
      if (outcome.status === 'archived') {
        m.ack();
        opts.onArchived(event.tenant, outcome.link);
      } else if (outcome.status === 'duplicate') {
        m.ack();
        opts.onDuplicate();
      } else if (outcome.status === 'conflict') await deadLetter(m, outcome.reason);
      else m.nak(WAITING_MS);
    } catch (err) {
      opts.onError(err);
      m.nak(RETRY_MS);
    }
  };

  const dispatch = (m: JsMsg): Promise<void> => {
    const read = readEventMessage(m.subject, m.data);
    if (!read.ok) return deadLetter(m, read.reason);
    const tenant = read.event.tenant;
    const next = (tails.get(tenant) ?? Promise.resolve()).then(() => archiveOne(m, read.event));
    tails.set(tenant, next);
    void next.finally(() => {
      if (tails.get(tenant) === next) tails.delete(tenant);
    });
    return next;
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        const consumer = await js.consumers.get(config.stream.name, config.consumer.durable);
        messages = await consumer.consume({ max_messages: Math.min(config.consumer.maxAckPending, 256) });
        for await (const m of messages) {
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
