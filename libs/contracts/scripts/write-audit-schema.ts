/** Writes the audit event's JSON Schema to docs/schemas/ (run from the repository root: npm run audit:schema). */
import { writeFileSync } from 'node:fs';
import { AuditSchemaPath, auditEventJsonSchema } from '../src/audit-schema';

writeFileSync(AuditSchemaPath, `${JSON.stringify(auditEventJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${AuditSchemaPath}\n`);
