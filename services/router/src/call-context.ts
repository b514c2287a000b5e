/**
 * What every call handler needs from the running replica, and the small rules they share: the upstream
 * timeout of a call, the log level to set upstream, and the error of an unavailable upstream.
 */
import type { Logger } from '@meshgate/config';
import { ErrorCodes, type DecisionReply, type ServerDefinition, type SessionInfo } from '@meshgate/contracts';
import { leastSevere, type LoggingLevel } from '@meshgate/mcp';
import type { Authorizer } from './authorization';
import { NeedsJwtMessage } from './upstream/principal-credentials';
import type { UpstreamConnection } from './upstream/connection';
import type { ConnectionPool } from './upstream/pool';
import type { CallOrigin, Outcome } from './upstream/relay-table';
import type { RegistryView } from './registry-view';
import type { Sessions } from './sessions';
import type { TaskPolls } from './task-polls';

/** The running replica, as the call handlers see it. */
export interface CallContext {
  instanceId: string;
  separator: string;
  listDeadlineMs: number;
  registry: RegistryView;
  pool: ConnectionPool;
  sessions: Sessions;
  /** The upstream tasks polled for agents that cannot use tasks (task-results). */
  taskPolls: TaskPolls;
  log: Logger;
  /** False while a fail-closed audit trail has no room for more events: calls are refused then. */
  auditAdmits(): boolean;
  /** Policy decisions and limits (authorization.ts). */
  authz: Authorizer;
  /** Records a policy decision in the audit trail (a no-op while the trail is off). */
  auditDecision(
    origin: CallOrigin,
    session: SessionInfo,
    server: string,
    method: string,
    target: string | undefined,
    decision: DecisionReply,
  ): void;
}

/** The time one upstream request may take: the definition's timeout, cut by the call's deadline. */
export function upstreamTimeout(def: ServerDefinition, deadline: number, now = Date.now()): number {
  return Math.max(1, Math.min(def.timeoutMs, deadline - now));
}

/**
 * The level to set on `conn` when session `sessionId` asks for `level`. A shared connection has one level for
 * every session, and each session's own level is applied by the router, so it is set to the least severe
 * level any session reaching it asked for: one session asking for less must not silence another.
 */
export function upstreamLevel(
  ctx: CallContext,
  conn: UpstreamConnection,
  sessionId: string,
  level: LoggingLevel,
): LoggingLevel {
  if (conn.owner !== undefined) return level;
  const others = ctx.sessions.using(conn.server).filter((s) => s.info.id !== sessionId);
  return leastSevere([level, ...others.map((s) => s.level)]) ?? level;
}

/**
 * Why `def` cannot serve session `sessionId` at all, or null: a server whose credentials come from a token
 * exchange of the agent's JWT cannot serve a session authenticated otherwise. Checked before a connection is
 * made, so that no connection is opened only to fail and retry for the rest of the session.
 */
export function missingCredential(ctx: CallContext, def: ServerDefinition, sessionId: string): string | null {
  if (def.transport === 'stdio' || def.auth?.type !== 'token-exchange') return null;
  return ctx.pool.callers.of(sessionId).subjectToken() === undefined ? NeedsJwtMessage : null;
}

/** The outcome of a call whose upstream cannot be reached. */
export function unavailable(server: string, reason: string): Outcome {
  return {
    error: { code: ErrorCodes.UpstreamUnavailable, message: `upstream ${server} unavailable: ${reason}` },
  };
}
