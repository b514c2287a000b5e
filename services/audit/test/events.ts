/** Test events: valid AuditEvent v1 values of any kind, each with a fresh id. */
import { randomUUID } from 'node:crypto';
import type { AuditEventOf } from '@meshgate/contracts';

/** A `response-sent` event of `tenant`; `n` varies its content. */
export function responseSent(tenant: string, n = 0): AuditEventOf<'response-sent'> {
  return {
    v: 1,
    id: randomUUID(),
    time: new Date(Date.UTC(2026, 10, 25, 10, 0, n)).toISOString(),
    tenant,
    traceId: n.toString(16).padStart(32, '0'),
    service: 'ingress',
    instance: 'ingress-1',
    kind: 'response-sent',
    latencyMs: n,
    sizeBytes: 100 + n,
    outcome: 'ok',
  };
}
