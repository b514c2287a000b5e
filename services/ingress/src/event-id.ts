/**
 * SSE event ids: `<streamId>_<seq>`. A stream id is a random subject token (it names the JetStream
 * subject the stream's events are kept on); seq 0 is the priming event. Pure.
 */
import { randomBytes } from 'node:crypto';

const EVENT_ID = /^([A-Za-z0-9_-]{8,64})_(\d{1,15})$/;

/** A new random stream id, also usable as a NATS subject token. */
export function newStreamId(): string {
  return randomBytes(16).toString('base64url');
}

/** The SSE id of event `seq` of a stream. */
export function formatEventId(streamId: string, seq: number): string {
  return `${streamId}_${seq}`;
}

/** Parses an event id (the last `_` separates the sequence); null when malformed. */
export function parseEventId(id: string): { streamId: string; seq: number } | null {
  const m = EVENT_ID.exec(id.trim());
  return m ? { streamId: m[1]!, seq: Number(m[2]) } : null;
}
