/**
 * Where events the archiver cannot take go: a stream of their own (`MG_AUDIT_DEAD` on `mg.deadletter.audit`,
 * outside `mg.audit.>` so it never feeds back), one schema-versioned entry per rejected message, or per
 * rejected event of a batch message (with its `index`), with the reason and the original bytes (base64,
 * bounded). Entries are deduplicated by the source sequence and index, so a redelivered bad message is kept
 * once.
 */
import {
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  type JetStreamClient,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/** Bytes of the original message kept in a dead-letter entry. */
export const DEAD_LETTER_MAX_BYTES = 64 * 1024;

/** What was rejected and why. */
export interface DeadLetter {
  reason: string;
  subject: string;
  streamSeq: number;
  /** The event's place in a batch message; absent when the whole message is rejected. */
  index?: number;
  /** The id of a valid event refused on its own (its id is archived with other content). */
  eventId?: string;
  data: Uint8Array;
}

/** Creates the dead-letter stream when it is missing. */
export async function ensureDeadLetterStream(
  nc: NatsConnection,
  spec: { stream: string; subject: string },
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const ensure = () =>
    jsm.streams.info(spec.stream).catch(async (err: unknown) => {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await jsm.streams.add({ name: spec.stream, subjects: [spec.subject], storage: StorageType.File });
    });
  // Replicas starting together race to create it: the loser's second look finds the winner's stream.
  await ensure().catch(ensure);
}

/** Stores one dead letter; resolves once the stream has it. */
export async function publishDeadLetter(
  js: JetStreamClient,
  spec: { stream: string; subject: string },
  letter: DeadLetter,
  now: Date,
): Promise<void> {
  const entry = {
    v: 1,
    time: now.toISOString(),
    reason: letter.reason.slice(0, 1024),
    subject: letter.subject,
    streamSeq: letter.streamSeq,
    ...(letter.index !== undefined ? { index: letter.index } : {}),
    ...(letter.eventId !== undefined ? { eventId: letter.eventId } : {}),
    truncated: letter.data.length > DEAD_LETTER_MAX_BYTES,
    data: Buffer.from(letter.data.subarray(0, DEAD_LETTER_MAX_BYTES)).toString('base64'),
  };
  await js.publish(spec.subject, JSON.stringify(entry), {
    msgID: [`audit-${letter.streamSeq}`, letter.index, letter.eventId]
      .filter((p) => p !== undefined)
      .join('.'),
    expect: { streamName: spec.stream },
  });
}
