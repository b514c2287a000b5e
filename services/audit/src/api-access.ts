/**
 * The gate of every tenant read of the audit API: authorise the bearer API key for the queried tenant,
 * then record the read itself in the trail (`request-received` from service `audit`, naming the principal
 * `<tenant>/<id>`, the query kept as a digest and a redacted copy). A refused read is recorded too, as a
 * denied `authentication` (naming the principal when it authenticated but lacks the role). When the trail
 * cannot take the event (`fail-closed` publisher with a full spool) the read is refused with a 503.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { auditArguments, newAuditEvent, type AuditPublisher } from '@meshgate/audit';
import { authorize, type AuditApiAuth } from './api-auth';
import { HttpProblem } from './problem';

/** The part of the audit publisher the API uses. */
export type AuditTrail = Pick<AuditPublisher, 'publish' | 'admission'>;

export interface AccessDeps {
  auth: AuditApiAuth;
  trail: AuditTrail;
  instanceId: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Lets `request` read `tenant` through `route` and audits it; throws the 401/403/503 problem otherwise. */
export function admitRead(deps: AccessDeps, request: FastifyRequest, tenant: string, route: string): void {
  const access = authorize(deps.auth, request.headers.authorization, tenant);
  const envelope = {
    tenant,
    traceId: traceIdOf(request.headers.traceparent),
    service: 'audit' as const,
    instance: deps.instanceId,
    method: request.method,
    target: route,
  };
  if (!access.ok) {
    deps.trail.publish(
      newAuditEvent({
        ...envelope,
        ...(access.principal !== undefined ? { principal: access.principal } : {}),
        kind: 'authentication',
        scheme: 'api-key',
        outcome: 'denied',
        reason: access.reason,
      }),
    );
    throw new HttpProblem(access.status, access.reason, {}, access.headers);
  }
  if (!deps.trail.admission())
    throw new HttpProblem(
      503,
      'this read cannot be recorded in the audit trail; retry later',
      {},
      { 'retry-after': '5' },
    );
  deps.trail.publish(
    newAuditEvent({
      ...envelope,
      kind: 'request-received',
      ...(access.principal !== undefined ? { principal: access.principal } : {}),
      clientAddress: request.ip.slice(0, 64),
      arguments: auditArguments(request.query ?? {}),
    }),
  );
}

function traceIdOf(header: string | string[] | undefined): string {
  const id = typeof header === 'string' ? TRACEPARENT.exec(header)?.[1] : undefined;
  return id !== undefined && !/^0+$/.test(id) ? id : randomBytes(16).toString('hex');
}
