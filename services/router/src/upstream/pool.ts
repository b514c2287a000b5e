/**
 * The router replica's upstream connections: one shared connection per server, or one per (server,
 * session) for `stateful` servers and servers acting per principal (token exchange, principal tokens), so
 * one upstream connection never carries two principals' tokens. Connections are created on first use and
 * start connecting at once. The pool also holds the replica's concurrency gates, one per server, shared by
 * all its connections, the sessions' callers (principal and agent token) per-principal servers act for, and
 * the era verdicts of its servers (forgotten when a server's connections are closed for a new definition).
 */
import type { ServerDefinition } from '@meshgate/contracts';
import type { UpstreamConnection } from './connection';
import { UpstreamGates, type SharedSlotSource, type UpstreamGate } from './upstream-gate';
import { SessionCallers, actsForPrincipal, type UpstreamCaller } from './upstream-caller';
import { EraVerdicts } from './era';
import type { PrincipalTokenSource } from './principal-tokens';

/**
 * Builds (and starts) the connection for a definition, owned by `owner` for a per-session connection; `gate`
 * is the server's concurrency gate, `caller` the owner's caller and `eras` the replica's era verdicts, to be
 * passed on as `ConnectionOptions.gate`, `.caller` and `.eras`.
 */
export type ConnectionFactory = (
  def: ServerDefinition,
  owner: string | undefined,
  gate: UpstreamGate,
  caller: UpstreamCaller | undefined,
  eras: EraVerdicts,
) => UpstreamConnection;

/** What the pool is built with besides its factory. */
export interface PoolOptions {
  /** Where principals' stored upstream tokens are read (`principal-token` servers). */
  principalTokens?: PrincipalTokenSource;
  /** Where a server's explicit `maxConcurrent` is shared with the other replicas (else it is per replica). */
  sharedSlots?: SharedSlotSource;
}

/** The open upstream connections of one replica. */
export class ConnectionPool {
  private readonly shared = new Map<string, UpstreamConnection>();
  /** server -> session -> connection. */
  private readonly owned = new Map<string, Map<string, UpstreamConnection>>();
  private closed = false;
  /** The replica's gates; `gates.stats()` tells in-flight, queued and shed requests per server. */
  readonly gates: UpstreamGates;
  /** The sessions' principals and agent tokens; every call records its own before it is routed. */
  readonly callers: SessionCallers;
  /** The era detected for each server, shared by its connections. */
  readonly eras = new EraVerdicts();

  constructor(
    private readonly factory: ConnectionFactory,
    opts: PoolOptions = {},
  ) {
    this.callers = new SessionCallers(opts.principalTokens);
    this.gates = new UpstreamGates(opts.sharedSlots);
  }

  /**
   * The connection `sessionId` uses for `def`: its own for a stateful server or one acting per principal,
   * else the shared one. Throws once the pool is closed (a connection started then would never be stopped).
   */
  connectionFor(def: ServerDefinition, sessionId: string): UpstreamConnection {
    if (!def.stateful && !actsForPrincipal(def)) return this.sharedFor(def);
    const bySession = this.owned.get(def.name) ?? new Map<string, UpstreamConnection>();
    this.owned.set(def.name, bySession);
    let conn = bySession.get(sessionId);
    if (!conn) {
      conn = this.create(def, sessionId);
      bySession.set(sessionId, conn);
    }
    return conn;
  }

  /**
   * The shared connection of a server that is not stateful; throws once the pool is closed, and for a server
   * acting per principal (it has none).
   */
  sharedFor(def: ServerDefinition): UpstreamConnection {
    if (actsForPrincipal(def)) throw new Error(`server ${def.name} acts per principal: no shared connection`);
    let conn = this.shared.get(def.name);
    if (!conn) {
      conn = this.create(def, undefined);
      this.shared.set(def.name, conn);
    }
    return conn;
  }

  /** Every open connection. */
  all(): UpstreamConnection[] {
    return [...this.shared.values(), ...[...this.owned.values()].flatMap((m) => [...m.values()])];
  }

  /** The open connections a session talks through: its own ones and the shared ones of `servers`. */
  connectionsOf(sessionId: string, servers: (server: string) => boolean): UpstreamConnection[] {
    const own = [...this.owned.values()].flatMap((m) => {
      const c = m.get(sessionId);
      return c ? [c] : [];
    });
    return [...[...this.shared.values()].filter((c) => servers(c.server)), ...own];
  }

  /**
   * Removes every connection of a server at once (new calls get new connections) and stops them;
   * resolves to whether a shared connection existed.
   */
  async closeServer(name: string): Promise<boolean> {
    this.eras.forget(name);
    const shared = this.shared.get(name);
    const owned = [...(this.owned.get(name)?.values() ?? [])];
    this.shared.delete(name);
    this.owned.delete(name);
    const closing = shared ? [shared, ...owned] : owned;
    await Promise.all(closing.map((c) => c.stop()));
    return shared !== undefined;
  }

  /** Removes and stops the connections a session owns, and forgets its caller. */
  async closeSession(sessionId: string): Promise<void> {
    this.callers.forget(sessionId);
    const closing: UpstreamConnection[] = [];
    for (const bySession of this.owned.values()) {
      const conn = bySession.get(sessionId);
      if (conn) closing.push(conn);
      bySession.delete(sessionId);
    }
    await Promise.all(closing.map((c) => c.stop()));
  }

  /** Stops every connection; the pool creates none afterwards. */
  async closeAll(): Promise<void> {
    this.closed = true;
    this.callers.clear();
    const all = this.all();
    this.shared.clear();
    this.owned.clear();
    await Promise.all(all.map((c) => c.stop()));
  }

  private create(def: ServerDefinition, owner: string | undefined): UpstreamConnection {
    if (this.closed) throw new Error('connection pool closed');
    const caller = owner === undefined ? undefined : this.callers.of(owner);
    return this.factory(def, owner, this.gates.forServer(def), caller, this.eras);
  }
}
