/** Writes the audit trail's JSON Schemas to docs/schemas/ (run from the repository root: npm run audit:schema). */
import { writeFileSync } from 'node:fs';
import {
  AuditMessageSchemaPath,
  AuditSchemaPath,
  auditEventJsonSchema,
  auditMessageJsonSchema,
} from '../src/audit-schema';

for (const [path, schema] of [
  [AuditSchemaPath, auditEventJsonSchema()],
  [AuditMessageSchemaPath, auditMessageJsonSchema()],
] as const) {
  writeFileSync(path, `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`wrote ${path}\n`);
}
