/**
 * The SSE event log of ADR 001: every event an agent is sent is also published, fire-and-forget, to the
 * JetStream stream `MG_EVENTS` on `mg.v1.events.<sid>.<streamId>`, bounded by age, events per stream and
 * bytes (no per-message TTL, so nats-server 2.9 works). Any replica replays a stream from it.
 */
import { z } from 'zod';
import {
  DeliverPolicy,
  DiscardPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { decodeJson, encodeJson, type Bus } from '@meshgate/bus';
import {
  JsonRpcId,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
  subject,
} from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';

/** The JetStream stream holding SSE events for resumption. */
export const EventsStream = 'MG_EVENTS';

/** Subject of one SSE stream's events (locally spelled: contracts has no `events` subject yet). */
export function eventsSubject(sessionId: string, streamId: string): string {
  return subject('events', sessionId, streamId);
}

/** One stored SSE event. Seq 0 (message null) marks the stream's start; `final` marks a POST's response. */
export const StoredEvent = z.object({
  v: z.literal(1),
  kind: z.enum(['post', 'get']),
  seq: z.number().int().nonnegative(),
  message: z.union([JsonRpcRequest, JsonRpcResponse, JsonRpcNotification]).nullable(),
  final: z.boolean(),
  /** POST streams: the agent's request and the time its answer is due, for a resumer on another replica. */
  requestId: JsonRpcId.optional(),
  deadline: z.number().int().optional(),
});
export type StoredEvent = z.infer<typeof StoredEvent>;

/** Bounds of `MG_EVENTS`, from configuration. */
export interface EventLogOptions {
  logger: Logger;
  maxAgeS: number;
  maxPerStream: number;
  maxBytes: number;
}

/** How a replay runs and where its events go. */
export interface ReplayOptions {
  /** Deliver events with a greater seq. */
  afterSeq: number;
  /** Keep following new events until a final one (POST streams), or stop once caught up. */
  follow: boolean;
  /** Stop at this epoch ms at the latest. */
  until: number;
  signal: AbortSignal;
  onEvent: (event: StoredEvent) => void;
}

/** Recording and replay of SSE events. */
export interface EventLog {
  /** Records an event without waiting; never throws. */
  append(sessionId: string, streamId: string, event: StoredEvent): void;
  /** The last stored event of a stream; null when the stream is unknown or expired. */
  last(sessionId: string, streamId: string): Promise<StoredEvent | null>;
  /** Delivers stored (and, when following, new) events in order; resolves with the last seq seen. */
  replay(
    sessionId: string,
    streamId: string,
    opts: ReplayOptions,
  ): Promise<{ lastSeq: number; final: boolean }>;
}

function streamConfig(opts: EventLogOptions): Partial<StreamConfig> & { name: string } {
  const maxAge = nanos(opts.maxAgeS * 1000);
  return {
    name: EventsStream,
    subjects: [`${subject('events')}.>`],
    max_age: maxAge,
    max_msgs_per_subject: opts.maxPerStream,
    max_bytes: opts.maxBytes,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: Math.min(maxAge, nanos(120_000)),
  };
}

/** Creates or updates `MG_EVENTS` to the configured bounds. */
async function ensureStream(jsm: JetStreamManager, opts: EventLogOptions): Promise<void> {
  const config = streamConfig(opts);
  try {
    await jsm.streams.update(EventsStream, config);
  } catch {
    try {
      await jsm.streams.add(config);
    } catch {
      // Added by another replica between the two calls.
      await jsm.streams.update(EventsStream, config);
    }
  }
}

/** Opens the event log, creating or updating its stream. */
export async function openEventLog(bus: Bus, opts: EventLogOptions): Promise<EventLog> {
  const jsm = await jetstreamManager(bus.nc);
  await ensureStream(jsm, opts);
  const js = jetstream(bus.nc);
  // Only ingress writes these subjects; anything unreadable is skipped, never fatal to a replay.
  const readStored = (data: Uint8Array): StoredEvent | null => {
    try {
      return decodeJson(StoredEvent, data, 'stored event');
    } catch (err) {
      opts.logger.warn({ err }, 'unreadable stored SSE event skipped');
      return null;
    }
  };
  return {
    append(sessionId, streamId, event) {
      // Fire-and-forget: a lost record costs a later resume, never the live stream.
      try {
        bus.nc.publish(eventsSubject(sessionId, streamId), encodeJson(event));
      } catch (err) {
        opts.logger.warn({ err, streamId }, 'SSE event not recorded');
      }
    },
    async last(sessionId, streamId) {
      const msg = await jsm.streams.getMessage(EventsStream, {
        last_by_subj: eventsSubject(sessionId, streamId),
      });
      return msg ? readStored(msg.data) : null;
    },
    async replay(sessionId, streamId, o) {
      const consumer = await js.consumers.get(EventsStream, {
        filter_subjects: eventsSubject(sessionId, streamId),
        deliver_policy: DeliverPolicy.All,
      });
      const messages = await consumer.consume();
      const stop = () => void messages.close();
      const timer = setTimeout(stop, Math.max(0, o.until - Date.now()));
      o.signal.addEventListener('abort', stop, { once: true });
      // The agent may have left while the consumer was being set up: its abort event has already fired.
      if (o.signal.aborted) stop();
      let lastSeq = o.afterSeq;
      let final = false;
      try {
        for await (const m of messages) {
          const event = readStored(m.data);
          if (event && event.seq > lastSeq && event.message !== null) {
            lastSeq = event.seq;
            o.onEvent(event);
          }
          final = event?.final ?? false;
          if (final || (!o.follow && m.info.pending === 0)) break;
        }
      } finally {
        clearTimeout(timer);
        o.signal.removeEventListener('abort', stop);
        await messages.close();
      }
      return { lastSeq, final };
    },
  };
}
