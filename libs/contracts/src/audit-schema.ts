/**
 * The audit event's JSON Schema (draft 2020-12), derived from the zod schema so the two cannot drift:
 * `npm run audit:schema` writes it to docs/schemas/, and a test fails when the committed file is stale.
 */
import { z } from 'zod';
import { AuditEvent } from './audit';

/** Where the schema is published, relative to the repository root. */
export const AuditSchemaPath = 'docs/schemas/audit-event.v1.schema.json';

/** The JSON Schema of `AuditEvent` v1, as published. */
export function auditEventJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://meshgate.dev/schemas/audit-event.v1.schema.json',
    title: 'Meshgate audit event, version 1',
    description:
      'One step of one request through Meshgate, as published on the JetStream stream MG_AUDIT (subject mg.audit.<tenant>.<kind>).',
    ...z.toJSONSchema(AuditEvent, { target: 'draft-2020-12' }),
  };
}
