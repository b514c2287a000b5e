/**
 * The JSON Schemas (draft 2020-12) of the audit trail, derived from the zod schemas so they cannot drift:
 * the event, and the message of the stream (an event or a batch of events). `npm run audit:schema` writes
 * them to docs/schemas/, and a test fails when a committed file is stale.
 */
import { z } from 'zod';
import { AuditEvent, AuditMessage } from './audit';

/** Where the event's schema is published, relative to the repository root. */
export const AuditSchemaPath = 'docs/schemas/audit-event.v1.schema.json';
/** Where the stream message's schema is published. */
export const AuditMessageSchemaPath = 'docs/schemas/audit-message.v1.schema.json';

/** The JSON Schema of `AuditEvent` v1, as published. */
export function auditEventJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://meshgate.dev/schemas/audit-event.v1.schema.json',
    title: 'Meshgate audit event, version 1',
    description:
      'One step of one request through Meshgate, as published on the JetStream stream MG_AUDIT (subject mg.audit.<tenant>.<kind>), alone or inside a batch message.',
    ...z.toJSONSchema(AuditEvent, { target: 'draft-2020-12' }),
  };
}

/** The JSON Schema of one message of `MG_AUDIT`: an event v1, or `{batch, events}` of one tenant and kind. */
export function auditMessageJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://meshgate.dev/schemas/audit-message.v1.schema.json',
    title: 'Meshgate audit stream message, version 1',
    description:
      'One message of the JetStream stream MG_AUDIT (subject mg.audit.<tenant>.<kind>): either one audit event, or a batch {batch, events} of 1 to 256 events of that tenant and kind, published with Nats-Msg-Id = batch. Every event of a batch has the tenant and kind of the subject.',
    ...z.toJSONSchema(AuditMessage, { target: 'draft-2020-12', reused: 'ref' }),
  };
}
