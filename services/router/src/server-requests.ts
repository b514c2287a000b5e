/**
 * Server-to-client requests (sampling, elicitation, roots, ping) relayed to agents. Each gets a gateway id
 * `mg:<instance>:<n>`, so the agent's answer (POSTed to any ingress replica) comes back to this replica on
 * its `to-upstream` subject, where it is mapped back to the upstream's own id (and, for a request converted
 * for the agent's era, its result back to what the upstream asked). Only the session the request was sent
 * to may answer it.
 */
import type { Logger } from '@meshgate/config';
import {
  ErrorCodes,
  gatewayRequestId,
  type JsonRpcId,
  type JsonRpcRequest,
  type ToUpstream,
} from '@meshgate/contracts';
import type { UpstreamConnection } from './upstream/connection';

/** Publishes one message for an agent on a subject. */
export type AgentPublisher = (subject: string, message: Record<string, unknown>) => void;

interface Outstanding {
  conn: UpstreamConnection;
  upstreamId: JsonRpcId;
  sessionId: string;
  /** Where the request went; its cancellation goes there too. */
  subject: string;
  timer: NodeJS.Timeout;
  /** Maps the agent's result back to what the upstream asked (a request converted for the agent's era). */
  convert: ((result: Record<string, unknown>) => Record<string, unknown>) | undefined;
}

/** The server-to-client requests this replica relayed and still waits an answer for. */
export class ServerRequests {
  private n = 0;
  private readonly byId = new Map<string, Outstanding>();

  constructor(
    private readonly instanceId: string,
    private readonly publish: AgentPublisher,
    private readonly log: Logger,
  ) {}

  /**
   * Sends an upstream's request to the agent of `sessionId` on `subject`; the upstream is answered later,
   * with the agent's result passed through `convert` when given.
   */
  relay(
    conn: UpstreamConnection,
    request: JsonRpcRequest,
    sessionId: string,
    subject: string,
    convert?: (result: Record<string, unknown>) => Record<string, unknown>,
  ): void {
    const id = gatewayRequestId(this.instanceId, ++this.n);
    const timeoutMs = conn.def.timeoutMs;
    const timer = setTimeout(() => {
      this.cancel(id, 'the client did not answer in time');
      conn.respond(request.id, {
        error: {
          code: ErrorCodes.RequestTimeout,
          message: `the client did not answer ${request.method} within ${timeoutMs} ms`,
        },
      });
    }, timeoutMs);
    this.byId.set(id, { conn, upstreamId: request.id, sessionId, subject, timer, convert });
    this.publish(subject, { ...request, id });
  }

  /** The agent answered: hands the answer to the upstream with its original id. */
  answer(payload: ToUpstream): void {
    const m = payload.message as {
      id?: JsonRpcId | null;
      result?: Record<string, unknown>;
      error?: { code: number; message: string };
    };
    const id = typeof m.id === 'string' ? m.id : undefined;
    const pending = id === undefined ? undefined : this.byId.get(id);
    if (!pending || id === undefined) {
      this.log.debug({ id: m.id }, 'answer to an unknown or finished server-to-client request');
      return;
    }
    if (pending.sessionId !== payload.sessionId) {
      this.log.warn({ id, from: payload.sessionId }, 'answer from another session ignored');
      return;
    }
    this.forget(id);
    if (m.error) return pending.conn.respond(pending.upstreamId, { error: m.error });
    const result = m.result ?? {};
    pending.conn.respond(pending.upstreamId, { result: pending.convert ? pending.convert(result) : result });
  }

  /** The upstream cancelled its own request: the agent is told with the gateway id. */
  upstreamCancelled(conn: UpstreamConnection, upstreamId: unknown, reason: unknown): void {
    for (const [id, p] of this.byId)
      if (p.conn === conn && p.upstreamId === upstreamId) this.cancel(id, reason);
  }

  /** The connection went away: its requests can no longer be answered; the agents are told. */
  dropConnection(conn: UpstreamConnection, reason: string): void {
    for (const [id, p] of this.byId) if (p.conn === conn) this.cancel(id, reason);
  }

  /** The session ended: the upstreams get an error instead of an answer. */
  dropSession(sessionId: string): void {
    for (const [id, p] of this.byId) {
      if (p.sessionId !== sessionId) continue;
      this.forget(id);
      p.conn.respond(p.upstreamId, {
        error: { code: ErrorCodes.InternalError, message: 'the client session ended' },
      });
    }
  }

  /** Forgets everything (replica stopping). */
  clear(): void {
    for (const id of [...this.byId.keys()]) this.forget(id);
  }

  private cancel(id: string, reason: unknown): void {
    const p = this.byId.get(id);
    if (!p) return;
    this.forget(id);
    const params: Record<string, unknown> = { requestId: id };
    if (typeof reason === 'string') params['reason'] = reason;
    this.publish(p.subject, { jsonrpc: '2.0', method: 'notifications/cancelled', params });
  }

  private forget(id: string): void {
    const p = this.byId.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.byId.delete(id);
  }
}
