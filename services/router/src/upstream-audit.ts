/**
 * The router's side of the audit trail (ADR 003): one `upstream-call` event for every request relayed
 * upstream for an agent call (the connection's `agentRequest` hook), with the server, the target as the
 * upstream knows it, latency, answer size, outcome and the call's trace id, and one `policy-decision` event
 * for every decision. The call path pays only a timestamp: the publisher gets a builder for each event and
 * builds, sizes and validates it when its linger period ends, with the other events of the period; it never
 * waits.
 */
import { randomUUID } from 'node:crypto';
import type { Bus } from '@meshgate/bus';
import type { Logger } from '@meshgate/config';
import {
  DefaultTenant,
  principalRef,
  type AuditEvent,
  type AuditEventOf,
  type DecisionReply,
  type Principal,
} from '@meshgate/contracts';
import { auditOutcome } from './audit-fields';
import {
  auditRequestId,
  clip,
  openAuditPublisher,
  publisherStatus,
  requestTarget,
  type AuditStatus,
} from '@meshgate/audit';
import type { RouterAuditConfig } from './config';
import type { ConnectionHooks } from './upstream/connection';
import type { CallOrigin } from './upstream/relay-table';

/** One policy decision on a call, for its `policy-decision` event. */
export interface DecisionRecord {
  origin: CallOrigin;
  principal: Principal;
  server: string;
  method: string;
  /** The tool, resource or prompt as the upstream knows it; absent for a list. */
  target: string | undefined;
  decision: DecisionReply;
}

/** The trail of one router replica. */
export interface UpstreamAudit {
  /** Records an agent request (the connection hook), on behalf of the session's principal when known. */
  agentRequest(
    ...args: [...Parameters<NonNullable<ConnectionHooks['agentRequest']>>, principal: Principal | undefined]
  ): void;
  /** Publishes the `policy-decision` event of one decision. */
  decision(record: DecisionRecord): void;
  /** False in fail-closed mode while the spool has no room: calls are refused then. */
  admission(): boolean;
  /** The trail's state and counters, for `$SRV.STATS`. */
  status(): AuditStatus;
  stop(): Promise<void>;
}

/** Starts the publisher (spool claimed, stream created when missing) behind the hook. */
export async function startUpstreamAudit(
  bus: Bus,
  config: RouterAuditConfig,
  instanceId: string,
  log: Logger,
): Promise<UpstreamAudit> {
  const opened = await openAuditPublisher(bus.nc, 'router', instanceId, config, log);
  const { publisher } = opened;
  /**
   * Hands the builder of an event to the publisher, which builds and validates it when its linger period
   * ends (a builder that throws is logged and counted there); publishing fails only once it is stopped.
   */
  const publish = (build: () => AuditEvent, server: string, method: string) => {
    try {
      publisher.publish(build);
    } catch (err) {
      log.error({ err, server, method }, 'audit event not published');
    }
  };
  /** The fields both kinds of event share, as a fresh object literal (`at`: epoch ms). */
  const envelope = (at: number, origin: CallOrigin, method: string, server: string) => ({
    v: 1 as const,
    id: randomUUID(),
    time: new Date(at).toISOString(),
    session: clip(origin.sessionId, 64),
    traceId: origin.traceId,
    service: 'router' as const,
    instance: instanceId,
    method: clip(method, 256),
    requestId: auditRequestId(origin.agentId),
    server,
  });
  // Each event starts as a fresh object literal, its other fields assigned to it. Spreading parts into a
  // new object made V8 build a slow dictionary object, which cost more than the rest of the event to build
  // and validate.
  return {
    agentRequest(conn, { method, params, origin, latencyMs, outcome }, principal) {
      const at = Date.now();
      publish(
        () => {
          const answer = 'result' in outcome ? outcome.result : outcome.error;
          const { outcome: result, error } = auditOutcome(outcome);
          const event: AuditEventOf<'upstream-call'> = Object.assign(
            envelope(at, origin, method, conn.server),
            {
              // A session forgotten by this replica (idle sweep) mid-call still belongs to someone: `default`.
              tenant: principal?.tenant ?? DefaultTenant,
              kind: 'upstream-call' as const,
              latencyMs: Math.round(latencyMs * 1000) / 1000,
              sizeBytes: Buffer.byteLength(JSON.stringify(answer)),
              outcome: result,
            },
          );
          if (principal) event.principal = principalRef(principal);
          const target = requestTarget(method, params);
          if (target !== undefined) event.target = target;
          if (error) event.error = error;
          return event;
        },
        conn.server,
        method,
      );
    },
    decision({ origin, principal, server, method, target, decision }) {
      const at = Date.now();
      publish(
        () => {
          const event: AuditEventOf<'policy-decision'> = Object.assign(envelope(at, origin, method, server), {
            tenant: principal.tenant,
            principal: principalRef(principal),
            kind: 'policy-decision' as const,
            effect: decision.effect,
            policies: decision.policies.slice(0, 64).map((p) => clip(p, 256)),
            reason: clip(decision.reason, 512),
          });
          if (target !== undefined) event.target = clip(target, 1024);
          return event;
        },
        server,
        method,
      );
    },
    admission: () => publisher.admission(),
    status: () => publisherStatus(publisher),
    stop: () => opened.stop(),
  };
}
