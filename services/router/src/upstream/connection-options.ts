/**
 * What an upstream connection is built from (ConnectionOptions) and what it reports to the router
 * (ConnectionHooks): the seam between a connection and the router replica that owns it.
 */
import type { JsonRpcNotification, JsonRpcRequest, ServerDefinition } from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';
import type { Attribution } from './attribution';
import type { UpstreamConnection } from './connection';
import type { EraVerdicts } from './era';
import type { AgentView } from './modern-answers';
import type { CallOrigin, Outcome } from './relay-table';
import type { TransportFactory } from './transport';
import type { UpstreamCaller } from './upstream-caller';
import type { UpstreamGate } from './upstream-gate';

/** What a connection reports to the router. */
export interface ConnectionHooks {
  serverRequest(conn: UpstreamConnection, request: JsonRpcRequest, attribution: Attribution): void;
  notification(conn: UpstreamConnection, notification: JsonRpcNotification, attribution: Attribution): void;
  /** The upstream was initialised again after it had been up (its lists may have changed). */
  reconnected(conn: UpstreamConnection): void;
  /** The transport went away; server-to-client requests it issued can no longer be answered. */
  down(conn: UpstreamConnection, reason: string): void;
  /** A request made for an agent call ended (the audit trail's `upstream-call`); called before its caller resumes. */
  agentRequest?(conn: UpstreamConnection, request: AgentRequest): void;
  /**
   * The agent of a session (its negotiated version and client capabilities): what a modern upstream is told
   * the client can do, and the era its answers are given in. Without it, agents count as of the latest
   * session era declaring nothing.
   */
  agentOf?(sessionId: string): AgentView | undefined;
}

/** One request relayed upstream for an agent call, as it ended. */
export interface AgentRequest {
  method: string;
  /** The params as the upstream received them (names de-namespaced). */
  params: Record<string, unknown> | undefined;
  origin: CallOrigin;
  /** From the call to `request` to its outcome, in milliseconds. */
  latencyMs: number;
  outcome: Outcome;
}

/** Everything a connection is built from. */
export interface ConnectionOptions {
  def: ServerDefinition;
  /** The session owning this connection (stateful servers); absent for a shared connection. */
  owner: string | undefined;
  transports: TransportFactory;
  hooks: ConnectionHooks;
  log: Logger;
  backoffMaxMs: number;
  /** The gateway version sent as clientInfo.version. */
  version: string;
  /**
   * The concurrency gate of the server, shared by all its connections on this replica (see
   * `ConnectionPool.gates`); without one the connection limits only itself.
   */
  gate?: UpstreamGate;
  /** Who a per-session connection of a server acting per principal acts for (upstream-caller). */
  caller?: UpstreamCaller | undefined;
  /** The era verdicts of the replica (see `ConnectionPool.eras`); without them the connection keeps its own. */
  eras?: EraVerdicts;
}
