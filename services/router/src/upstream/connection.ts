/**
 * One connection to one upstream server: its life cycle (era detection and handshake, restart with
 * exponential backoff after a crash or an expired session, stop) and the raw JSON-RPC relay on top of it.
 * Requests never reject: every failure becomes a JSON-RPC error outcome (-32001 when the upstream is
 * unavailable). Messages from the upstream are attributed and handed to the router's hooks
 * (upstream-intake). The tasks that agent calls create through it are booked to their session. Every
 * request, the handshake and list fetches included, passes the server's gate (upstream-gate) before it is
 * sent. Each connection attempt detects the upstream's era (establish), readable as `era`; what a modern
 * (2026-07-28) upstream needs besides (envelopes, local answers, the listen stream, answers in each
 * agent's era) is the connection's modern side (modern-side).
 */
import type { JsonRpcErrorObject, JsonRpcId, ServerDefinition } from '@meshgate/contracts';
import { ListCapabilities, ModernWire, type ListItem, type ListKind } from '@meshgate/mcp';
import { performance } from 'node:perf_hooks';
import { RelayTable, type CallOrigin, type Outcome, type Pending } from './relay-table';
import { ListCache, fetchAllPages } from './list-cache';
import { SubscriptionBook } from './subscription-book';
import { TaskBook } from './task-book';
import { SessionExpiredError, type UpstreamTransport } from './transport';
import { Lifecycle, type LifecycleEvents } from './lifecycle';
import { OpenedTransport, establish } from './establish';
import { EraVerdicts, type UpstreamEra } from './era';
import { ModernSide } from './modern-side';
import { takeIn, type Intake } from './upstream-intake';
import { UpstreamGate, gateLimits } from './upstream-gate';
import type { ConnectionOptions } from './connection-options';

export type { AgentRequest, ConnectionHooks, ConnectionOptions } from './connection-options';

/** The JSON-RPC code answered to a call the agent cancelled. */
export const RequestCancelledCode = -32800;

/** One upstream connection: shared by every session, or owned by one session of a stateful server. */
export class UpstreamConnection {
  readonly def: ServerDefinition;
  readonly owner: string | undefined;
  readonly subscriptions = new SubscriptionBook();
  /** The tasks created through this connection, by the session that created them. */
  readonly tasks = new TaskBook();
  private readonly table = new RelayTable();
  private readonly lists: ListCache;
  private readonly lifecycle: Lifecycle;
  private readonly gate: UpstreamGate;
  private readonly eras: EraVerdicts;
  private readonly modern: ModernSide;
  private readonly intake: Intake;
  private transport: UpstreamTransport | undefined;
  /** The events of the current connection attempt (how the connection ends it itself). */
  private attemptEvents: LifecycleEvents | undefined;
  /** Every transport the current connection attempt opened (probes included), closed when it ends. */
  private attemptTransports: UpstreamTransport[] = [];
  /** The transport is initialised: requests not bound to a transport may go on it. */
  private ready = false;
  /** A connection was established before: the next attempt re-establishes it (and detects the era afresh). */
  private established = false;
  private initResult: Record<string, unknown> | undefined;
  private upstreamEra: UpstreamEra | undefined;
  /** The log level last set upstream through this connection; re-sent after re-initialisation. */
  logLevel: string | undefined;

  constructor(private readonly opts: ConnectionOptions) {
    this.def = opts.def;
    this.owner = opts.owner;
    this.gate = opts.gate ?? new UpstreamGate(opts.def.name, gateLimits(opts.def));
    this.eras = opts.eras ?? new EraVerdicts();
    this.modern = new ModernSide({
      version: opts.version,
      log: opts.log,
      logLevel: () => this.logLevel,
      agentOf: (sessionId) => opts.hooks.agentOf?.(sessionId),
      send: (method, params, origin, ms) => this.audited(method, params, origin, ms),
      serverRequest: (request, attribution) => opts.hooks.serverRequest(this, request, attribution),
      notification: (n, attribution) => opts.hooks.notification(this, n, attribution),
    });
    this.lists = new ListCache((kind, deadline) => this.fetchList(kind, deadline));
    this.intake = {
      server: opts.def.name,
      owner: opts.owner,
      table: this.table,
      log: opts.log,
      // A modern upstream's listen stream takes its own messages (acknowledgements, answers to listens).
      consume: (raw) => this.modern.consume(raw),
      listsChanged: (kinds) => this.lists.invalidate(kinds),
      tasks: this.tasks,
      serverRequest: (request, attribution) => opts.hooks.serverRequest(this, request, attribution),
      notification: (n, attribution) => opts.hooks.notification(this, n, attribution),
    };
    this.lifecycle = new Lifecycle({
      log: opts.log,
      backoffMaxMs: opts.backoffMaxMs,
      connect: (events) => this.connect(events),
      ready: (reconnected) => this.onReady(reconnected),
      down: (reason, stopping) => this.onDown(reason, stopping),
    });
  }

  get server(): string {
    return this.def.name;
  }

  /**
   * The upstream's InitializeResult of the current (or last) handshake; for a modern upstream, built from its
   * server/discover result.
   */
  get initializeResult(): Record<string, unknown> | undefined {
    return this.initResult;
  }

  /** The upstream's era as detected by the current (or last) connection; undefined before the first. */
  get era(): UpstreamEra | undefined {
    return this.upstreamEra;
  }

  /** Starts connecting in the background. */
  start(): void {
    this.lifecycle.start();
  }

  /** Stops for good: fails calls in flight, closes the transport (kills a stdio child). */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** Waits (at most `timeoutMs`) until the upstream is initialised; throws why it is not. */
  whenReady(timeoutMs: number): Promise<void> {
    return this.lifecycle.whenReady(Date.now() + timeoutMs);
  }

  /**
   * Relays one request upstream; the outcome is the upstream's answer or a gateway error. A request with an
   * origin (made for an agent call) is reported to the `agentRequest` hook when it ends, and a modern
   * upstream's answer to it is given in the agent's era (its input rounds run first for a session-era agent).
   */
  request(
    method: string,
    params: Record<string, unknown> | undefined,
    origin: CallOrigin | undefined,
    timeoutMs: number,
  ): Promise<Outcome> {
    // The hot path (a session upstream) takes no extra step; an era still unknown is looked at afterwards.
    if (!origin || this.upstreamEra?.kind === 'session')
      return this.audited(method, params, origin, timeoutMs);
    return this.forAgent(method, params, origin, timeoutMs);
  }

  private async forAgent(
    method: string,
    params: Record<string, unknown> | undefined,
    origin: CallOrigin,
    timeoutMs: number,
  ): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    const out = await this.audited(method, params, origin, timeoutMs);
    if (this.upstreamEra?.kind !== 'modern') return out;
    return this.modern.answer(method, params, origin, out, deadline);
  }

  /** One request upstream, reported to the `agentRequest` hook when it was made for an agent call. */
  private async audited(
    method: string,
    params: Record<string, unknown> | undefined,
    origin: CallOrigin | undefined,
    timeoutMs: number,
  ): Promise<Outcome> {
    if (!origin || !this.opts.hooks.agentRequest) return this.relay(method, params, origin, timeoutMs);
    const started = performance.now();
    const outcome = await this.relay(method, params, origin, timeoutMs);
    this.opts.hooks.agentRequest(this, {
      method,
      params,
      origin,
      latencyMs: performance.now() - started,
      outcome,
    });
    return outcome;
  }

  private async relay(
    method: string,
    params: Record<string, unknown> | undefined,
    origin: CallOrigin | undefined,
    timeoutMs: number,
  ): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    try {
      await this.lifecycle.whenReady(deadline);
    } catch (err) {
      return this.unavailable(errorText(err));
    }
    const left = deadline - Date.now();
    if (left <= 0) return { error: { code: -32003, message: `${method}: no answer within ${timeoutMs} ms` } };
    if (this.upstreamEra?.kind === 'modern') {
      const answered = this.modern.localAnswer(method, params, left);
      if (answered) return answered;
      params = this.modern.envelope(params, origin);
    }
    const out = await this.exchange(undefined, method, params, origin, left);
    if ('error' in out && out.error.code === ModernWire.unsupportedVersionCode)
      this.eraChanged(out.error.message);
    return out;
  }

  /**
   * Sends a notification upstream when connected (dropped otherwise: it belongs to the old upstream session).
   * A modern upstream gets it with the envelope, except roots/list_changed, which its era does not have,
   * and cancellations over HTTP, where closing the request's stream (which settling it does) cancels it.
   */
  notify(method: string, params?: Record<string, unknown>): void {
    const era = this.upstreamEra;
    if (era?.kind === 'modern') {
      if (method === 'notifications/roots/list_changed') return;
      if (method === 'notifications/cancelled' && era.wire !== 'stdio') return;
      params = this.modern.envelope(params, undefined);
    }
    this.transport?.send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }).catch((err: unknown) => {
      this.opts.log.debug({ err: errorText(err), method }, 'notification not delivered upstream');
    });
  }

  /**
   * Answers a server-to-client request of the upstream with its own id; the answer to an input request of a
   * modern upstream's call (input-asks) goes to that call instead.
   */
  respond(id: JsonRpcId, outcome: Outcome): void {
    if (this.modern.asks.answer(id, outcome)) return;
    this.transport?.send({ jsonrpc: '2.0', id, ...outcome }).catch((err: unknown) => {
      this.opts.log.debug({ err: errorText(err) }, 'answer not delivered upstream');
    });
  }

  /** Cancels the agent call `agentId` of a session if it is in flight here; true when it was. */
  cancelCall(sessionId: string, agentId: JsonRpcId, reason: string | undefined): boolean {
    const asked = this.modern.asks.cancelCall(sessionId, agentId);
    const p = this.table.findCall(sessionId, agentId);
    if (!p) return asked;
    if (!p.queued && !p.parked)
      this.notify('notifications/cancelled', { requestId: p.id, ...(reason ? { reason } : {}) });
    return this.table.settle(p.id, { error: { code: RequestCancelledCode, message: 'request cancelled' } });
  }

  /** Forgets a session: cancels its calls, releases its resource subscriptions and forgets its tasks. */
  dropSession(sessionId: string): void {
    this.tasks.dropSession(sessionId);
    this.modern.asks.dropSession(sessionId);
    for (const p of this.table.all())
      if (p.origin?.sessionId === sessionId) this.cancelCall(sessionId, p.origin.agentId, 'session ended');
    for (const uri of this.subscriptions.dropSession(sessionId))
      this.background('resources/unsubscribe', { uri });
  }

  /** The whole list of `kind` (cached); rejects when the upstream cannot give it by `deadline`. */
  list(kind: ListKind, deadline: number): Promise<ListItem[]> {
    return this.lists.get(kind, deadline);
  }

  private async connect(events: LifecycleEvents): Promise<void> {
    const opened: UpstreamTransport[] = [];
    this.attemptTransports = opened;
    this.attemptEvents = events;
    const established = await establish({
      def: this.def,
      caller: this.opts.caller,
      verdicts: this.eras,
      fresh: this.established,
      version: this.opts.version,
      open: (def) => {
        const attempt = new OpenedTransport(
          (transportEvents) => this.opts.transports(def, transportEvents, this.opts.log, this.opts.caller),
          {
            message: (m, related) => {
              if (!events.isCurrent()) return;
              try {
                takeIn(this.intake, m, related);
              } catch (err) {
                this.opts.log.error({ err: errorText(err) }, 'upstream message handling failed');
              }
            },
            closed: (reason) => {
              // Nothing more is sent on a transport that is gone, even before the life cycle takes it down.
              if (events.isCurrent()) this.ready = false;
              events.closed(reason);
            },
          },
        );
        opened.push(attempt.transport);
        return attempt;
      },
      exchange: (transport, method, params, ms) => this.exchange(transport, method, params, undefined, ms),
    });
    if (!events.isCurrent()) {
      // The attempt ended (stop, or its transport went away) while it was being established.
      await established.transport.close().catch(() => undefined);
      throw new Error('connection closed');
    }
    this.transport = established.transport;
    this.initResult = established.initializeResult;
    this.upstreamEra = established.era;
  }

  /**
   * A modern upstream refused the version it was detected with (it was replaced by an older server): the
   * connection is re-established, which detects its era afresh.
   */
  private eraChanged(reason: string): void {
    if (this.upstreamEra?.kind !== 'modern' || !this.attemptEvents?.isCurrent()) return;
    this.eras.forget(this.def.name);
    this.attemptEvents.closed(`the upstream no longer speaks 2026-07-28: ${reason}`);
  }

  private onReady(reconnected: boolean): void {
    this.ready = true;
    this.established = true;
    const era = this.upstreamEra;
    this.opts.log.info(
      { protocolVersion: era?.protocolVersion, era: era?.kind, wire: era?.wire, reconnected },
      'upstream ready',
    );
    this.lists.invalidate();
    if (era?.kind === 'modern' && this.transport)
      this.modern.up(
        this.transport,
        era.wire === 'stdio',
        this.initResult?.['capabilities'],
        this.subscriptions.uris(),
      );
    else {
      if (this.logLevel !== undefined) this.background('logging/setLevel', { level: this.logLevel });
      for (const uri of this.subscriptions.uris()) this.background('resources/subscribe', { uri });
    }
    for (const p of this.table.all()) {
      if (!p.parked) continue;
      p.parked = false;
      this.admit(p, undefined);
    }
    if (reconnected) this.opts.hooks.reconnected(this);
  }

  private async onDown(reason: string, stopping: boolean): Promise<void> {
    // The attempt's transports: the established one, or those an attempt still establishing holds.
    const closing = this.attemptTransports;
    this.attemptTransports = [];
    this.transport = undefined;
    this.ready = false;
    this.lists.invalidate();
    this.modern.down(this.unavailable(reason).error);
    // Requests the upstream never saw (parked, or waiting for a slot) wait for the next connection.
    this.table.settleAll(this.unavailable(reason), (p) => !stopping && (p.parked || (p.queued && !p.bound)));
    this.opts.hooks.down(this, reason);
    await Promise.all(
      closing.map((t) =>
        t
          .close()
          .catch((err: unknown) => this.opts.log.warn({ err: errorText(err) }, 'upstream close failed')),
      ),
    );
  }

  /** Relays one request on `bound` (the handshake's transport), else on the transport ready at the time. */
  private exchange(
    bound: UpstreamTransport | undefined,
    method: string,
    params: Record<string, unknown> | undefined,
    origin: CallOrigin | undefined,
    timeoutMs: number,
  ): Promise<Outcome> {
    const { pending, outcome } = this.table.open(method, params, origin, timeoutMs, (p) => {
      // A request bound to a transport (a handshake or probe) ends with that transport's attempt.
      if (!p.queued && !p.parked && !p.bound)
        this.notify('notifications/cancelled', { requestId: p.id, reason: 'timeout' });
    });
    pending.bound = bound !== undefined;
    this.admit(pending, bound);
    return outcome;
  }

  /**
   * Sends `p` once the gate gives it a slot (at once when one is free); a request not bound to a transport
   * that gets its slot while the connection is down is parked until it is up again. A request settled
   * while it waits (deadline, cancel, stop) aborts its signal and so leaves the queue.
   */
  private admit(p: Pending, bound: UpstreamTransport | undefined): void {
    p.queued = true;
    this.gate.enter(
      {
        admit: (release) => {
          p.queued = false;
          const transport = bound ?? (this.ready ? this.transport : undefined);
          if (!this.table.get(p.id) || !transport) {
            release();
            p.parked = transport === undefined;
            return;
          }
          p.release = release;
          this.transmit(p, transport);
        },
        refuse: (error) => this.table.settle(p.id, { error }),
      },
      p.abort.signal,
    );
  }

  private transmit(p: Pending, transport: UpstreamTransport): void {
    transport.send(p.message, p.abort.signal).catch((err: unknown) => {
      if (err instanceof SessionExpiredError && !p.retried && this.table.get(p.id)) {
        // The upstream never ran it: its slot is free until it is sent again.
        p.release?.();
        p.release = undefined;
        p.parked = true;
        p.retried = true;
        return;
      }
      this.table.settle(p.id, this.unavailable(errorText(err)));
    });
  }

  private async fetchList(kind: ListKind, deadline: number): Promise<ListItem[]> {
    await this.lifecycle.whenReady(deadline);
    const capabilities = this.initResult?.['capabilities'] as Record<string, unknown> | undefined;
    if (capabilities?.[ListCapabilities[kind]] === undefined) return [];
    return fetchAllPages(kind, (method, params, ms) => this.request(method, params, undefined, ms), deadline);
  }

  /** A request of the gateway's own whose failure is only logged. */
  private background(method: string, params: Record<string, unknown>): void {
    void this.request(method, params, undefined, this.def.timeoutMs).then((out) => {
      if ('error' in out)
        this.opts.log.warn({ method, err: out.error.message }, 'upstream refused a gateway request');
    });
  }

  private unavailable(reason: string): { error: JsonRpcErrorObject } {
    return { error: { code: -32001, message: `upstream ${this.def.name} unavailable: ${reason}` } };
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
