/**
 * Reads one message of the audit stream, pure: JSON, a valid AuditEvent v1, and a subject that agrees with
 * the event (`mg.audit.<tenant>.<kind>`: its last two tokens). Anything else is refused with a one-line reason for the dead letter.
 */
import { AuditEvent } from '@meshgate/contracts';

/** The event, or why the message cannot be archived. */
export type EventMessage = { ok: true; event: AuditEvent } | { ok: false; reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes and validates one audit stream message. */
export function readEventMessage(subject: string, data: Uint8Array): EventMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, reason: 'payload is not UTF-8 JSON' };
  }
  const parsed = AuditEvent.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `not an AuditEvent v1: ${issue ? `${issue.path.join('.') || 'event'}: ${issue.message}` : ''}`,
    };
  }
  const event = parsed.data;
  const parts = subject.split('.');
  const [tenant, kind] = [parts.at(-2), parts.at(-1)];
  if (tenant !== event.tenant || kind !== event.kind)
    return {
      ok: false,
      reason: `subject ${subject} does not match tenant "${event.tenant}" and kind "${event.kind}"`,
    };
  return { ok: true, event };
}
