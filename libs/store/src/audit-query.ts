/**
 * The filters of an audit query and the pure matcher adapters without a query language use. Every filter is
 * optional; present ones must all hold. The time range is on the event's own time, `from` inclusive and
 * `to` exclusive.
 */
import { z } from 'zod';
import { AuditKind, AuditOutcome, TenantId, type AuditEvent } from '@meshgate/contracts';

/** What a query may filter on. */
export const AuditQuery = z
  .object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    tenant: TenantId,
    principal: z.string().max(256),
    server: z.string().max(128),
    target: z.string().max(1024),
    kind: AuditKind,
    outcome: AuditOutcome,
    traceId: z.string().regex(/^[0-9a-f]{32}$/),
  })
  .partial()
  .strict();
export type AuditQuery = z.infer<typeof AuditQuery>;

/** True when `event` satisfies every filter of `q`. */
export function matchesAuditQuery(event: AuditEvent, q: AuditQuery): boolean {
  const time = Date.parse(event.time);
  if (q.from !== undefined && time < Date.parse(q.from)) return false;
  if (q.to !== undefined && time >= Date.parse(q.to)) return false;
  if (q.tenant !== undefined && event.tenant !== q.tenant) return false;
  if (q.principal !== undefined && event.principal !== q.principal) return false;
  if (q.server !== undefined && event.server !== q.server) return false;
  if (q.target !== undefined && event.target !== q.target) return false;
  if (q.kind !== undefined && event.kind !== q.kind) return false;
  if (q.traceId !== undefined && event.traceId !== q.traceId) return false;
  if (q.outcome !== undefined && !('outcome' in event && event.outcome === q.outcome)) return false;
  return true;
}
