/**
 * Building an audit event: the caller gives the step's fields, this fills the schema version, a fresh id
 * (the `Nats-Msg-Id` that makes publishing idempotent) and the time, then validates the whole event.
 */
import { randomUUID } from 'node:crypto';
import { AuditEvent } from '@meshgate/contracts';
import { CallerFault } from '@meshgate/bus';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event without what `newAuditEvent` fills in; `time` may be given (an ISO date-time) to backdate a step. */
export type AuditEventFields = DistributiveOmit<AuditEvent, 'v' | 'id' | 'time'> & { time?: string };

/** The event, validated; throws a `CallerFault` naming every invalid field. */
export function newAuditEvent(fields: AuditEventFields): AuditEvent {
  return validAuditEvent({
    ...fields,
    v: 1,
    id: randomUUID(),
    time: fields.time ?? new Date().toISOString(),
  });
}

/** `value` as an AuditEvent, or a `CallerFault` naming every invalid field. */
export function validAuditEvent(value: unknown): AuditEvent {
  const parsed = AuditEvent.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
    .join('; ');
  throw new CallerFault(`invalid audit event: ${issues}`);
}
