/** A valid audit event for the archive tests. */
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@meshgate/contracts';

/** A valid `response-sent` event of `tenant`. */
export function auditEvent(tenant: string, over: Partial<Record<string, unknown>> = {}): AuditEvent {
  return {
    v: 1,
    id: randomUUID(),
    time: '2026-11-25T10:00:00.000Z',
    tenant,
    traceId: 'a'.repeat(32),
    service: 'ingress',
    instance: 'ingress-1',
    kind: 'response-sent',
    latencyMs: 3,
    sizeBytes: 10,
    outcome: 'ok',
    ...over,
  };
}
