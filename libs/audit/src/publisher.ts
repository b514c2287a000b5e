/**
 * The audit publisher every service uses (ADR 003). `publish` only takes the event, or a function that
 * builds it, and returns: it is built, validated, serialised and sent once the linger period (`lingerMs`,
 * from the first event waiting) is over, off the caller's turn and together with the other events of the
 * period, so the trail costs a call almost nothing. The events of one period are grouped by
 * tenant and kind into messages (outgoing.ts: one event alone, or a batch) on `mg.audit.<tenant>.<kind>`
 * with `Nats-Msg-Id` = the event's or the batch's id, at most `maxInFlight` messages awaiting
 * acknowledgement and up to `maxQueued` more events held in memory. A failed or timed-out publish sends the
 * message to the on-disk spool, and from then on every message goes behind it until the drainer has emptied
 * the spool, so the trail stays in order. A full spool loses events counted and logged (`fail-open`) or
 * closes `admission()` (`fail-closed`); an invalid event is counted as dropped and logged with its fault.
 */
import type { z } from 'zod';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AuditEvent } from '@meshgate/contracts';
import { createLogger, type Logger } from '@meshgate/config';
import { validAuditEvent } from './event';
import { eventCount, outgoingMessages, splitOutgoing, type Outgoing } from './outgoing';
import { startDrainer } from './drainer';
import { InFlight } from './in-flight';
import { Spool } from './spool';
import { StreamAcks } from './stream-acks';
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
  /** Events lost: invalid, spool full or unwritable, or unreadable when drained. Each one is logged. */
  dropped: number;
  /** Events accepted and not yet acknowledged nor dropped, including a previous run's spool. */
  pending: number;
}

/**
 * What `publish` takes: an event, or a function that builds it when the period ends. A builder keeps the
 * building off the caller's turn; what it reads must not change meanwhile (at most `lingerMs`).
 */
export type AuditEventSource = AuditEvent | (() => AuditEvent);

export interface AuditPublisher {
  /**
   * Publishes without waiting; throws only after `stop()`. An invalid event (or a builder that throws) is
   * found when its period ends: it is logged with its fault and counted in `dropped`.
   */
  publish(event: AuditEventSource): void;
  /** False in `fail-closed` mode while the spool is (nearly) full: refuse new requests then. */
  admission(): boolean;
  stats(): AuditPublisherStats;
  /** Waits (bounded) for acknowledgements in flight, spools what is left and closes the spool. */
  stop(): Promise<void>;
}

/**
 * Events built and routed in one turn of the event loop: a period with more (a high call rate) goes on in
 * the next turns, so that the requests waiting meanwhile are served between its parts. Accepted events that
 * fill a turn make the period end at once rather than after `lingerMs`.
 */
const TURN_EVENTS = 512;
const eventsIn = (item: Outgoing) => item.events.length;

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
    eventCount,
  );
  const acks = new StreamAcks(nc, o.ackTimeoutMs);
  const send = (item: Outgoing) => acks.publish(item.subject, item.line, item.msgId);
  const queue: Outgoing[] = [];
  let queuedEvents = 0;
  const inFlight = new InFlight<Outgoing>();
  let spooling = spool.events > 0;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let idle: (() => void) | undefined;
  /** Events accepted by `publish` and not yet routed (sent, queued or spooled): the period's end does it. */
  let accepted: AuditEventSource[] = [];
  let period: NodeJS.Timeout | NodeJS.Immediate | undefined;

  const drainer = startDrainer({
    spool,
    send,
    window: o.maxInFlight,
    backoffMinMs: o.backoffMinMs,
    backoffMaxMs: o.backoffMaxMs,
    onAcked: (count) => (counts.acked += count),
    onInvalid: (segment, reason, count) => lost(count, 'unreadable spool line', { segment, reason }),
    onRetry: (reason, delayMs) => logger.warn({ reason, delayMs }, 'audit stream unreachable; spool kept'),
    onEmpty: () => {
      if (!spooling || inFlight.holdsFailures) return; // failed events are on their way to the spool
      logger.info({}, 'audit spool drained; publishing directly');
      spooling = false;
      pump();
    },
  });

  function toSpool(item: Outgoing): void {
    if (!spool.append(item.line, item.events.length)) {
      // No room for the whole message: its halves may still fit (each with an id of its own).
      const halves = splitOutgoing(item);
      if (halves) return halves.forEach(toSpool);
      const { id, tenant, kind } = item.events[0] as AuditEvent;
      lost(1, 'spool full', { id, tenant, kind, mode: o.mode });
      return;
    }
    counts.spooled += item.events.length;
    drainer.kick();
  }

  function startSpooling(reason: string): void {
    if (!spooling) logger.warn({ reason }, 'audit events go to the spool');
    spooling = true;
  }

  function direct(item: Outgoing): void {
    inFlight.add(item);
    send(item).then(
      () => settle(item, 'acked'),
      (err: unknown) => {
        startSpooling(err instanceof Error ? err.message : String(err));
        settle(item, 'failed');
      },
    );
  }

  function settle(item: Outgoing, outcome: 'acked' | 'failed'): void {
    const released = inFlight.settle(item, outcome);
    if (!released) return; // abandoned by stop() and spooled already
    if (outcome === 'acked') counts.acked += item.events.length;
    released.forEach(toSpool);
    pump();
  }

  /** Moves queued events on: sent while publishing directly, spooled once nothing sent before them is out. */
  function pump(): void {
    if (spooling) {
      if (inFlight.size === 0) unqueue(queue.length).forEach(toSpool);
    } else {
      while (queue.length > 0 && inFlight.unsettled < o.maxInFlight) direct(unqueue(1)[0] as Outgoing);
    }
    if (inFlight.size === 0 && queue.length === 0) idle?.();
  }

  function unqueue(count: number): Outgoing[] {
    const taken = queue.splice(0, count);
    queuedEvents -= taken.reduce((sum, item) => sum + eventsIn(item), 0);
    return taken;
  }

  function route(item: Outgoing): void {
    if (spooling && inFlight.size === 0 && queue.length === 0) toSpool(item);
    else if (!spooling && queue.length === 0 && inFlight.unsettled < o.maxInFlight) direct(item);
    else if (queuedEvents + item.events.length <= o.maxQueued) {
      queue.push(item);
      queuedEvents += item.events.length;
    } else {
      startSpooling('publishes in flight and queued at their bounds');
      toSpool(item);
    }
  }

  function endPeriod(): void {
    if (period === undefined) return;
    clearTimeout(period as NodeJS.Timeout);
    clearImmediate(period as NodeJS.Immediate);
    period = undefined;
  }

  /**
   * Ends the period: builds and validates what was accepted (at most `TURN_EVENTS`, the rest in the next
   * turn), groups it into messages and routes them.
   */
  function routeAccepted(): void {
    endPeriod();
    let taken = accepted;
    if (taken.length > TURN_EVENTS) {
      taken = accepted.splice(0, TURN_EVENTS);
      period = setImmediate(routeAccepted);
    } else accepted = [];
    const valid: AuditEvent[] = [];
    for (const source of taken) {
      let event: unknown = source;
      try {
        if (typeof source === 'function') event = source();
        valid.push(validAuditEvent(event));
      } catch (err) {
        const { id, kind } = (event ?? {}) as { id?: unknown; kind?: unknown };
        lost(1, 'invalid event', { id, kind, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    outgoingMessages(valid, o.maxBatchBytes).forEach(route);
  }

  async function shutdown(): Promise<void> {
    stopped = true;
    while (accepted.length > 0) routeAccepted();
    endPeriod();
    if (inFlight.size > 0 || queue.length > 0) {
      const settled = new Promise<void>((resolve) => (idle = resolve));
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, o.stopTimeoutMs).unref())]);
    }
    // Acknowledgements may still come for these: the duplicate window absorbs their republication.
    inFlight.abandon().forEach(toSpool);
    unqueue(queue.length).forEach(toSpool);
    await drainer.stop(o.stopTimeoutMs);
    acks.close();
    await spool.close();
  }

  return {
    publish(event) {
      if (stopped) throw new Error('audit publisher is stopped');
      counts.published++;
      const waiting = accepted.push(event);
      if (waiting === 1)
        period = o.lingerMs > 0 ? setTimeout(routeAccepted, o.lingerMs) : setImmediate(routeAccepted);
      else if (waiting === TURN_EVENTS) {
        endPeriod();
        period = setImmediate(routeAccepted);
      }
    },
    admission: () => o.mode === 'fail-open' || spool.bytes + reserve < o.spoolMaxBytes,
    stats: () => ({
      ...counts,
      spoolBytes: spool.bytes,
      pending: accepted.length + inFlight.pendingWeight(eventsIn) + queuedEvents + spool.events,
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
