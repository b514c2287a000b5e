/**
 * Reads one message of the audit stream, pure: JSON, either one AuditEvent v1 or an AuditBatch of them,
 * each event valid, with a canonical form (RFC 8785 refuses lone surrogates, which JSON escapes can carry)
 * and agreeing with the subject (`mg.audit.<tenant>.<kind>`: its last two tokens). A
 * message that cannot be read at all is refused whole, with a one-line reason for the dead letter; inside a
 * readable batch, each invalid event is refused on its own, so that one bad event does not hold back the rest.
 */
import { z } from 'zod';
import { AuditEvent, MAX_BATCH_EVENTS } from '@meshgate/contracts';
import { canonical } from './chain';

/** An event of a batch that cannot be archived: its place in the batch, why, and its JSON. */
export interface RejectedEvent {
  index: number;
  reason: string;
  data: Uint8Array;
}

/** The valid events of a message in order, and its rejected ones; or why the whole message is refused. */
export type StreamMessage =
  { ok: true; events: AuditEvent[]; rejected: RejectedEvent[] } | { ok: false; reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
/** A batch as far as its envelope goes; its events are checked one by one. */
const BatchEnvelope = z.object({
  batch: z.uuid(),
  events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS),
});

const firstIssue = (error: z.ZodError) => {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'event'}: ${issue.message}` : '';
};

/** The event, or why it cannot be archived from a message on `subject`. */
function readEvent(raw: unknown, tenant?: string, kind?: string): AuditEvent | string {
  const parsed = AuditEvent.safeParse(raw);
  if (!parsed.success) return `not an AuditEvent v1: ${firstIssue(parsed.error)}`;
  const event = parsed.data;
  if (tenant !== event.tenant || kind !== event.kind)
    return `subject tenant "${tenant}" and kind "${kind}" do not match the event's "${event.tenant}" and "${event.kind}"`;
  try {
    canonical(event); // what the chain hashes; kept for the hash
  } catch (err) {
    return `no canonical JSON form (RFC 8785): ${err instanceof Error ? err.message : String(err)}`;
  }
  return event;
}

/** Decodes and validates one audit stream message. */
export function readStreamMessage(subject: string, data: Uint8Array): StreamMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, reason: 'payload is not UTF-8 JSON' };
  }
  const parts = subject.split('.');
  const [tenant, kind] = [parts.at(-2), parts.at(-1)];
  if (!(raw !== null && typeof raw === 'object' && 'batch' in raw)) {
    const event = readEvent(raw, tenant, kind);
    if (typeof event === 'string') return { ok: false, reason: `${event} (subject ${subject})` };
    return { ok: true, events: [event], rejected: [] };
  }
  const batch = BatchEnvelope.safeParse(raw);
  if (!batch.success) return { ok: false, reason: `not an AuditBatch: ${firstIssue(batch.error)}` };
  const events: AuditEvent[] = [];
  const rejected: RejectedEvent[] = [];
  batch.data.events.forEach((item, index) => {
    const event = readEvent(item, tenant, kind);
    if (typeof event !== 'string') events.push(event);
    else
      rejected.push({
        index,
        reason: `${event} (subject ${subject})`,
        data: encoder.encode(JSON.stringify(item)),
      });
  });
  return { ok: true, events, rejected };
}
