/**
 * Ingress's side of the audit trail (ADR 003): `request-received` and `response-sent` for every JSON-RPC
 * request it answers (not for ping, notifications or responses). Nothing of it runs on the request path
 * but a timestamp: both events are built and handed to the publisher in `setImmediate`, after the call has
 * gone to the router (NATS flushes in a microtask) or after the answer was written, and the publisher
 * itself never waits. The `AuditedRequest` of a request also carries its trace context, the one the router
 * receives in the bus headers, so every event of one call shares its trace id.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyRequest } from 'fastify';
import { childTraceparent, type Bus } from '@meshgate/bus';
import type { Logger } from '@meshgate/config';
import { DefaultTenant, SessionId, principalRef, type JsonRpcRequest } from '@meshgate/contracts';
import { auditOutcome, errorDetail, requestArguments } from './audit-fields';
import {
  auditArguments,
  auditRequestId,
  openAuditPublisher,
  publisherStatus,
  requestTarget,
  traceIdOf,
  type AuditEventFields,
  type AuditStatus,
  type OpenedPublisher,
} from '@meshgate/audit';
import type { IngressConfig } from './config';
import { attachAudit, type AuditedRequest } from './audited-request';
import type { AuthRefusal } from './edge-auth';
import { header, targetOf } from './mcp-guard';
import { callerOf } from './request-principal';

export type { AuditState, AuditStatus } from '@meshgate/audit';

/** The trail of one ingress instance. */
export interface AuditTrail {
  /**
   * Starts following a request that was just parsed; publishes its `request-received`. The session is
   * the request's Mcp-Session-Id unless `session` names it (the legacy HTTP+SSE transport has no header).
   */
  received(request: FastifyRequest, message: JsonRpcRequest, session?: string): AuditedRequest;
  /**
   * Publishes the `authentication` event of a refused request (tenant `default`: a refused sender has
   * none). Accepted credentials need no event of their own: every event of the request names its principal.
   */
  refused(request: FastifyRequest, refusal: AuthRefusal): void;
  /** False in fail-closed mode while the spool has no room: new requests are refused then. */
  admission(): boolean;
  status(): AuditStatus;
  stop(): Promise<void>;
}

/** Starts the trail: the publisher (spool claimed, stream created when missing), or nothing when off. */
export async function startAuditTrail(bus: Bus, config: IngressConfig, logger: Logger): Promise<AuditTrail> {
  if (!config.audit.enabled) {
    return {
      received: (request) => ({
        traceparent: childTraceparent(header(request, 'traceparent')),
        session: undefined,
        answered: () => {},
      }),
      refused: () => {},
      admission: () => true,
      status: () => ({ state: 'off' }),
      stop: async () => {},
    };
  }
  const opened = await openAuditPublisher(bus.nc, 'ingress', config.instanceId, config.audit, logger);
  return trail(opened, config.instanceId, logger);
}

function trail(opened: OpenedPublisher, instance: string, logger: Logger): AuditTrail {
  const { publisher } = opened;
  const emit = (fields: AuditEventFields & { time: string }) => {
    try {
      // publish() validates the event once; newAuditEvent would validate it a second time.
      publisher.publish({ ...fields, v: 1, id: randomUUID() });
    } catch (err) {
      logger.error({ err, kind: fields.kind }, 'audit event not published');
    }
  };

  return {
    received(request, message, sessionId) {
      const receivedAt = Date.now();
      const started = performance.now();
      const traceparent = childTraceparent(header(request, 'traceparent'));
      const target = targetOf(request);
      const sessionHeader = sessionId ?? header(request, 'mcp-session-id');
      const { principal } = callerOf(request);
      const envelope = {
        tenant: principal.tenant,
        principal: principalRef(principal),
        traceId: traceIdOf(traceparent),
        service: 'ingress' as const,
        instance,
        method: message.method.slice(0, 256),
        requestId: auditRequestId(message.id),
        ...(target.kind === 'server' ? { server: target.server } : {}),
      };
      let answered = false;
      const call: AuditedRequest = {
        traceparent,
        session:
          sessionHeader !== undefined && SessionId.safeParse(sessionHeader).success
            ? sessionHeader
            : undefined,
        answered(response, sizeBytes, outcome) {
          if (answered) return;
          answered = true;
          const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
          const time = new Date().toISOString();
          const error = errorDetail(response);
          setImmediate(() =>
            emit({
              ...envelope,
              ...(call.session !== undefined ? { session: call.session } : {}),
              kind: 'response-sent',
              time,
              latencyMs,
              sizeBytes,
              outcome: auditOutcome(outcome),
              ...(error ? { error } : {}),
            }),
          );
        },
      };
      attachAudit(request, call);
      const session = call.session;
      setImmediate(() => {
        const args = requestArguments(message.method, message.params);
        const version =
          message.method === 'initialize'
            ? message.params?.['protocolVersion']
            : header(request, 'mcp-protocol-version');
        const targetName = requestTarget(message.method, message.params);
        emit({
          ...envelope,
          ...(session !== undefined ? { session } : {}),
          ...(targetName !== undefined ? { target: targetName } : {}),
          kind: 'request-received',
          time: new Date(receivedAt).toISOString(),
          ...(args.present ? { arguments: auditArguments(args.value) } : {}),
          ...(typeof version === 'string' && version.length <= 32 ? { protocolVersion: version } : {}),
          clientAddress: request.ip.slice(0, 64),
        });
      });
      return call;
    },
    refused(request, refusal) {
      const time = new Date().toISOString();
      const traceparent = childTraceparent(header(request, 'traceparent'));
      const target = targetOf(request);
      setImmediate(() =>
        emit({
          tenant: DefaultTenant,
          traceId: traceIdOf(traceparent),
          service: 'ingress',
          instance,
          ...(target.kind === 'server' ? { server: target.server } : {}),
          kind: 'authentication',
          time,
          scheme: refusal.scheme,
          outcome: 'denied',
          reason: `${refusal.status} ${refusal.reason}: ${refusal.detail}`.slice(0, 512),
        }),
      );
    },
    admission: () => publisher.admission(),
    status: () => publisherStatus(publisher),
    stop: () => opened.stop(),
  };
}
