/**
 * The audit publisher every service uses (ADR 003). `publish` validates and returns at once; the event is
 * serialised and sent on the next turn of the event loop (`setImmediate`: after the I/O the caller started,
 * such as the answer to the agent, so the trail costs a call no latency), to `mg.audit.<tenant>.<kind>` with
 * `Nats-Msg-Id = event.id`, at most `maxInFlight` awaiting
 * acknowledgement and up to `maxQueued` more held in memory. A failed or timed-out publish sends the event
 * to the on-disk spool, and from then on every event goes behind it until the drainer has emptied the spool,
 * so the trail stays in order. A full spool loses events counted and logged (`fail-open`) or closes
 * `admission()` (`fail-closed`).
 */
import type { z } from 'zod';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AuditSubjects, type AuditEvent } from '@meshgate/contracts';
import { createLogger, type Logger } from '@meshgate/config';
import { validAuditEvent } from './event';
import { startDrainer } from './drainer';
import { InFlight } from './in-flight';
import { Spool } from './spool';
import { AuditPublisherOptions } from './publisher-options';

/** Counters since start; `spoolBytes` and `pending` are current values. */
export interface AuditPublisherStats {
  /** Events accepted by `publish`. */
  published: number;
  /** Events the stream acknowledged (directly or from the spool). */
  acked: number;
  /** Events written to the spool. */
  spooled: number;
  spoolBytes: number;
  /** Events lost: spool full or unwritable, or unreadable when drained. Each one is logged. */
  dropped: number;
  /** Events accepted and not yet acknowledged nor dropped, including a previous run's spool. */
  pending: number;
}

export interface AuditPublisher {
  /** Publishes without waiting; throws only for an invalid event (`CallerFault`) or after `stop()`. */
  publish(event: AuditEvent): void;
  /** False in `fail-closed` mode while the spool is (nearly) full: refuse new requests then. */
  admission(): boolean;
  stats(): AuditPublisherStats;
  /** Waits (bounded) for acknowledgements in flight, spools what is left and closes the spool. */
  stop(): Promise<void>;
}

interface Item {
  line: string;
  event: AuditEvent;
}

/** Opens the spool (taking over what a previous run left) and starts publishing. */
async function start(
  nc: NatsConnection,
  options: z.input<typeof AuditPublisherOptions>,
  logger: Logger = createLogger('audit-publisher', 'info'),
): Promise<AuditPublisher> {
  const o = AuditPublisherOptions.parse(options);
  const reserve = o.admissionReserveBytes ?? Math.min(64 * 1024, Math.floor(o.spoolMaxBytes / 10));
  const counts = { published: 0, acked: 0, spooled: 0, dropped: 0 };
  const lost = (count: number, reason: string, detail: object = {}) => {
    counts.dropped += count;
    logger.error({ ...detail, count, dropped: counts.dropped }, `audit events dropped: ${reason}`);
  };
  const spool = await Spool.open(
    o.spoolDir,
    { maxBytes: o.spoolMaxBytes, segmentBytes: o.segmentBytes },
    lost,
  );
  const js = jetstream(nc, { timeout: o.ackTimeoutMs });
  const send = async (line: string, event: AuditEvent) => {
    await js.publish(AuditSubjects.of(event.tenant, event.kind), line, {
      msgID: event.id,
      timeout: o.ackTimeoutMs,
    });
  };
  const queue: Item[] = [];
  const inFlight = new InFlight<Item>();
  let spooling = spool.events > 0;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let idle: (() => void) | undefined;
  /** Events accepted by `publish` and not yet routed (sent, queued or spooled): the next turn does it. */
  let accepted: AuditEvent[] = [];

  const drainer = startDrainer({
    spool,
    send,
    window: o.maxInFlight,
    backoffMinMs: o.backoffMinMs,
    backoffMaxMs: o.backoffMaxMs,
    onAcked: (count) => (counts.acked += count),
    onInvalid: (segment, reason) => lost(1, 'unreadable spool line', { segment, reason }),
    onRetry: (reason, delayMs) => logger.warn({ reason, delayMs }, 'audit stream unreachable; spool kept'),
    onEmpty: () => {
      if (!spooling || inFlight.holdsFailures) return; // failed events are on their way to the spool
      logger.info({}, 'audit spool drained; publishing directly');
      spooling = false;
      pump();
    },
  });

  function toSpool(item: Item): void {
    if (!spool.append(item.line)) {
      const { id, tenant, kind } = item.event;
      lost(1, 'spool full', { id, tenant, kind, mode: o.mode });
      return;
    }
    counts.spooled++;
    drainer.kick();
  }

  function startSpooling(reason: string): void {
    if (!spooling) logger.warn({ reason }, 'audit events go to the spool');
    spooling = true;
  }

  function direct(item: Item): void {
    inFlight.add(item);
    send(item.line, item.event).then(
      () => settle(item, 'acked'),
      (err: unknown) => {
        startSpooling(err instanceof Error ? err.message : String(err));
        settle(item, 'failed');
      },
    );
  }

  function settle(item: Item, outcome: 'acked' | 'failed'): void {
    const released = inFlight.settle(item, outcome);
    if (!released) return; // abandoned by stop() and spooled already
    if (outcome === 'acked') counts.acked++;
    released.forEach(toSpool);
    pump();
  }

  /** Moves queued events on: sent while publishing directly, spooled once nothing sent before them is out. */
  function pump(): void {
    if (spooling) {
      if (inFlight.size === 0) queue.splice(0).forEach(toSpool);
    } else {
      while (queue.length > 0 && inFlight.unsettled < o.maxInFlight) direct(queue.shift() as Item);
    }
    if (inFlight.size === 0 && queue.length === 0) idle?.();
  }

  function route(event: AuditEvent): void {
    const item: Item = { line: JSON.stringify(event), event };
    if (spooling && inFlight.size === 0 && queue.length === 0) toSpool(item);
    else if (!spooling && queue.length === 0 && inFlight.unsettled < o.maxInFlight) direct(item);
    else if (queue.length < o.maxQueued) queue.push(item);
    else {
      startSpooling('publishes in flight and queued at their bounds');
      toSpool(item);
    }
  }

  function routeAccepted(): void {
    const batch = accepted;
    accepted = [];
    batch.forEach(route);
  }

  async function shutdown(): Promise<void> {
    stopped = true;
    routeAccepted();
    if (inFlight.size > 0 || queue.length > 0) {
      const settled = new Promise<void>((resolve) => (idle = resolve));
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, o.stopTimeoutMs).unref())]);
    }
    // Acknowledgements may still come for these: the duplicate window absorbs their republication.
    inFlight.abandon().forEach(toSpool);
    queue.splice(0).forEach(toSpool);
    await drainer.stop(o.stopTimeoutMs);
    await spool.close();
  }

  return {
    publish(event) {
      if (stopped) throw new Error('audit publisher is stopped');
      const valid = validAuditEvent(event);
      counts.published++;
      if (accepted.push(valid) === 1) setImmediate(routeAccepted);
    },
    admission: () => o.mode === 'fail-open' || spool.bytes + reserve < o.spoolMaxBytes,
    stats: () => ({
      ...counts,
      spoolBytes: spool.bytes,
      pending: accepted.length + inFlight.pending + queue.length + spool.events,
    }),
    stop: () => (stopping ??= shutdown()),
  };
}

/** What a service reports of its trail (ingress in `/readyz` and `/metrics`, router in `$SRV.STATS`). */
export type AuditState = 'off' | 'publishing' | 'spooling' | 'refusing';
export type AuditStatus = { state: AuditState } & Partial<AuditPublisherStats>;

/** The status of a running publisher: refusing (fail-closed, no room), spooling, or publishing. */
export function publisherStatus(publisher: Pick<AuditPublisher, 'admission' | 'stats'>): AuditStatus {
  const stats = publisher.stats();
  const state: AuditState = !publisher.admission()
    ? 'refusing'
    : stats.spoolBytes > 0
      ? 'spooling'
      : 'publishing';
  return { state, ...stats };
}

/** The publisher's factory: `AuditPublisher.start(nc, options, logger?)`. */
export const AuditPublisher = { start };
