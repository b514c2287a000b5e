/**
 * Ingress's side of the audit trail (ADR 003): `request-received` and `response-sent` for every JSON-RPC
 * request it answers (not for ping, notifications or responses). The request path only notes what the
 * events need (times, ids, the client's address) and hands the publisher a builder for each: it builds,
 * digests and validates them when its linger period ends, with the other events of the period, and never
 * waits. The `AuditedRequest` of a request also carries its trace context, the one the router
 * receives in the bus headers, so every event of one call shares its trace id.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyRequest } from 'fastify';
import { childTraceparent, type Bus } from '@meshgate/bus';
import type { Logger } from '@meshgate/config';
import {
  DefaultTenant,
  SessionId,
  principalRef,
  type AuditEvent,
  type AuditEventOf,
  type JsonRpcRequest,
} from '@meshgate/contracts';
import { auditOutcome, errorDetail, requestArguments } from './audit-fields';
import {
  auditArguments,
  auditRequestId,
  openAuditPublisher,
  publisherStatus,
  requestTarget,
  traceIdOf,
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
  /**
   * Hands the builder of an event to the publisher, which builds and validates it when its linger period
   * ends (a builder that throws is logged and counted there); publishing fails only once it is stopped.
   */
  const publish = (kind: AuditEvent['kind'], build: () => AuditEvent) => {
    try {
      publisher.publish(build);
    } catch (err) {
      logger.error({ err, kind }, 'audit event not published');
    }
  };

  // Each event starts as a fresh object literal, its other fields assigned to it. Spreading a shared
  // envelope into a new object made V8 build a slow dictionary object, which cost more than the rest of the
  // event and made validating it several times slower.
  return {
    received(request, message, sessionId) {
      const receivedAt = Date.now();
      const started = performance.now();
      const traceparent = childTraceparent(header(request, 'traceparent'));
      const target = targetOf(request);
      const sessionHeader = sessionId ?? header(request, 'mcp-session-id');
      const { principal } = callerOf(request);
      const tenant = principal.tenant;
      const principalId = principalRef(principal);
      const traceId = traceIdOf(traceparent);
      const method = message.method.slice(0, 256);
      const requestId = auditRequestId(message.id);
      const server = target.kind === 'server' ? target.server : undefined;
      /** The fields both events of the request share, as a fresh object literal (`at`: epoch ms). */
      const envelope = (at: number) => ({
        v: 1 as const,
        id: randomUUID(),
        time: new Date(at).toISOString(),
        tenant,
        principal: principalId,
        traceId,
        service: 'ingress' as const,
        instance,
        method,
        requestId,
      });
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
          const at = Date.now();
          const error = errorDetail(response);
          const session = call.session;
          publish('response-sent', () => {
            const event: AuditEventOf<'response-sent'> = Object.assign(envelope(at), {
              kind: 'response-sent' as const,
              latencyMs,
              sizeBytes,
              outcome: auditOutcome(outcome),
            });
            if (session !== undefined) event.session = session;
            if (server !== undefined) event.server = server;
            if (error) event.error = error;
            return event;
          });
        },
      };
      attachAudit(request, call);
      const session = call.session;
      // Read now: the socket may be gone, and the request with it, when the builder runs.
      const clientAddress = request.ip.slice(0, 64);
      const version =
        message.method === 'initialize'
          ? message.params?.['protocolVersion']
          : header(request, 'mcp-protocol-version');
      publish('request-received', () => {
        const event: AuditEventOf<'request-received'> = Object.assign(envelope(receivedAt), {
          kind: 'request-received' as const,
          clientAddress,
        });
        if (session !== undefined) event.session = session;
        if (server !== undefined) event.server = server;
        const targetName = requestTarget(message.method, message.params);
        if (targetName !== undefined) event.target = targetName;
        const args = requestArguments(message.method, message.params);
        if (args.present) event.arguments = auditArguments(args.value);
        if (typeof version === 'string' && version.length <= 32) event.protocolVersion = version;
        return event;
      });
      return call;
    },
    refused(request, refusal) {
      const at = Date.now();
      const traceparent = childTraceparent(header(request, 'traceparent'));
      const target = targetOf(request);
      publish('authentication', () => {
        const event: AuditEventOf<'authentication'> = {
          v: 1,
          id: randomUUID(),
          time: new Date(at).toISOString(),
          tenant: DefaultTenant,
          traceId: traceIdOf(traceparent),
          service: 'ingress',
          instance,
          kind: 'authentication',
          scheme: refusal.scheme,
          outcome: 'denied',
          reason: `${refusal.status} ${refusal.reason}: ${refusal.detail}`.slice(0, 512),
        };
        if (target.kind === 'server') event.server = target.server;
        return event;
      });
    },
    admission: () => publisher.admission(),
    status: () => publisherStatus(publisher),
    stop: () => opened.stop(),
  };
}
