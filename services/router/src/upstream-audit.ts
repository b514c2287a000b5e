/**
 * The router's side of the audit trail (ADR 003): one `upstream-call` event for every request relayed
 * upstream for an agent call (the connection's `agentRequest` hook), with the server, the target as the
 * upstream knows it, latency, answer size, outcome and the call's trace id. The event is built in
 * `setImmediate`, after the router's reply to ingress has been flushed (NATS flushes in a microtask), so the
 * call path pays only a timestamp; the publisher never waits.
 */
import { randomUUID } from 'node:crypto';
import type { Bus } from '@meshgate/bus';
import type { Logger } from '@meshgate/config';
import { DefaultTenant, principalRef, type DecisionReply, type Principal } from '@meshgate/contracts';
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
  return {
    agentRequest(conn, { method, params, origin, latencyMs, outcome }, principal) {
      const time = new Date().toISOString();
      setImmediate(() => {
        try {
          const answer = 'result' in outcome ? outcome.result : outcome.error;
          const target = requestTarget(method, params);
          // publish() validates the event once; newAuditEvent would validate it a second time.
          publisher.publish({
            v: 1,
            id: randomUUID(),
            time,
            // A session forgotten by this replica (idle sweep) mid-call still belongs to someone: `default`.
            tenant: principal?.tenant ?? DefaultTenant,
            ...(principal ? { principal: principalRef(principal) } : {}),
            session: clip(origin.sessionId, 64),
            traceId: origin.traceId,
            service: 'router',
            instance: instanceId,
            method: clip(method, 256),
            requestId: auditRequestId(origin.agentId),
            server: conn.server,
            ...(target !== undefined ? { target } : {}),
            kind: 'upstream-call',
            latencyMs: Math.round(latencyMs * 1000) / 1000,
            sizeBytes: Buffer.byteLength(JSON.stringify(answer)),
            ...auditOutcome(outcome),
          });
        } catch (err) {
          log.error({ err, server: conn.server, method }, 'audit event not published');
        }
      });
    },
    decision({ origin, principal, server, method, target, decision }) {
      const time = new Date().toISOString();
      setImmediate(() => {
        try {
          publisher.publish({
            v: 1,
            id: randomUUID(),
            time,
            tenant: principal.tenant,
            principal: principalRef(principal),
            session: clip(origin.sessionId, 64),
            traceId: origin.traceId,
            service: 'router',
            instance: instanceId,
            method: clip(method, 256),
            requestId: auditRequestId(origin.agentId),
            server,
            ...(target !== undefined ? { target: clip(target, 1024) } : {}),
            kind: 'policy-decision',
            effect: decision.effect,
            policies: decision.policies.slice(0, 64).map((p) => clip(p, 256)),
            reason: clip(decision.reason, 512),
          });
        } catch (err) {
          log.error({ err, server, method }, 'audit event not published');
        }
      });
    },
    admission: () => publisher.admission(),
    status: () => publisherStatus(publisher),
    stop: () => opened.stop(),
  };
}
