/**
 * The bookkeeping of one upstream connection's raw JSON-RPC relay: every request sent upstream gets a
 * connection-unique id, and a progress token supplied by the agent is replaced by a unique one, so answers
 * and progress from the upstream map back to exactly one call, whatever ids different agents chose. A
 * request is opened before it waits for a slot of the upstream's gate, so its deadline and cancellation
 * cover the wait; settling it gives its slot back.
 */
import type { JsonRpcErrorObject, JsonRpcId, JsonRpcRequest } from '@meshgate/contracts';

/** The abort reason of a settled request; given explicitly, since a default reason is a new DOMException per call. */
const Settled = new Error('request settled');

/** The agent call a relayed request belongs to; absent for the gateway's own requests (lists, handshake). */
export interface CallOrigin {
  sessionId: string;
  /** The agent's own request id. */
  agentId: JsonRpcId;
  /** Subject for messages related to this call (progress, logs, server-to-client requests). */
  stream: string | undefined;
  /** W3C trace id of the call (from its traceparent), shared by the audit events of the call. */
  traceId: string;
}

/** How an upstream request ended: its result, or a JSON-RPC error (the upstream's or the gateway's). */
export type Outcome = { result: Record<string, unknown> } | { error: JsonRpcErrorObject };

/** One request in flight upstream. */
export interface Pending {
  readonly id: number;
  /** The message as sent upstream (ids and progress token already rewritten). */
  readonly message: JsonRpcRequest;
  readonly origin: CallOrigin | undefined;
  /** The agent's progress token, when it asked for progress. */
  readonly agentToken: string | number | undefined;
  /** The progress token sent upstream in its place. */
  readonly token: string | undefined;
  /** Aborts the transport work of this request (the HTTP response stream) once it is settled. */
  readonly abort: AbortController;
  /** Waiting for the connection to come back to be sent again (its first send hit an expired session). */
  parked: boolean;
  /** Already sent a second time; it is not parked again. */
  retried: boolean;
  /** Waiting for a slot of the upstream's gate: the upstream has not seen it. */
  queued: boolean;
  /** Belongs to one transport (the handshake's requests): never kept for the next connection. */
  bound: boolean;
  /** Gives back the gate slot this request holds while the upstream may be working on it. */
  release: (() => void) | undefined;
}

interface Entry extends Pending {
  settle(outcome: Outcome): void;
  timer: NodeJS.Timeout;
}

/** The requests in flight on one connection, by upstream id and by progress token. */
export class RelayTable {
  private nextId = 0;
  private readonly pending = new Map<number, Entry>();
  private readonly tokens = new Map<string, number>();

  /**
   * Opens a request: allocates its id, rewrites its progress token, and arms its timeout, which calls
   * `onTimeout` and settles it with a -32003 error.
   */
  open(
    method: string,
    params: Record<string, unknown> | undefined,
    origin: CallOrigin | undefined,
    timeoutMs: number,
    onTimeout: (pending: Pending) => void,
  ): { pending: Pending; outcome: Promise<Outcome> } {
    const id = ++this.nextId;
    const meta = params?.['_meta'] as Record<string, unknown> | undefined;
    const rawToken = meta?.['progressToken'];
    const agentToken = typeof rawToken === 'string' || typeof rawToken === 'number' ? rawToken : undefined;
    const token = agentToken !== undefined ? `mg-${id}` : undefined;
    const sentParams = token !== undefined ? { ...params, _meta: { ...meta, progressToken: token } } : params;
    const message: JsonRpcRequest = {
      jsonrpc: '2.0',
      id,
      method,
      ...(sentParams ? { params: sentParams } : {}),
    };
    let settle!: (outcome: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
    const timer = setTimeout(() => {
      const entry = this.pending.get(id);
      if (!entry) return;
      onTimeout(entry);
      const message = entry.queued
        ? `${method}: the upstream had no free slot within ${timeoutMs} ms`
        : `${method}: no answer within ${timeoutMs} ms`;
      this.settle(id, { error: { code: -32003, message } });
    }, timeoutMs);
    const entry: Entry = {
      id,
      message,
      origin,
      agentToken,
      abort: new AbortController(),
      parked: false,
      retried: false,
      queued: false,
      bound: false,
      release: undefined,
      settle,
      timer,
      token,
    };
    this.pending.set(id, entry);
    if (token !== undefined) this.tokens.set(token, id);
    return { pending: entry, outcome };
  }

  /** Settles request `id`; false when it is not (or no longer) in flight. */
  settle(id: unknown, outcome: Outcome): boolean {
    const entry = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!entry) return false;
    this.pending.delete(entry.id);
    if (entry.token !== undefined) this.tokens.delete(entry.token);
    clearTimeout(entry.timer);
    entry.abort.abort(Settled);
    entry.release?.();
    entry.release = undefined;
    entry.settle(outcome);
    return true;
  }

  /** Settles every request in flight except those `keep` selects. */
  settleAll(outcome: Outcome, keep: (p: Pending) => boolean = () => false): void {
    for (const entry of [...this.pending.values()]) if (!keep(entry)) this.settle(entry.id, outcome);
  }

  get(id: unknown): Pending | undefined {
    return typeof id === 'number' ? this.pending.get(id) : undefined;
  }

  /** The request that owns an upstream progress token. */
  byToken(token: unknown): Pending | undefined {
    const id = typeof token === 'string' ? this.tokens.get(token) : undefined;
    return id === undefined ? undefined : this.pending.get(id);
  }

  /** The in-flight request of an agent call. */
  findCall(sessionId: string, agentId: JsonRpcId): Pending | undefined {
    for (const p of this.pending.values())
      if (p.origin?.sessionId === sessionId && p.origin.agentId === agentId) return p;
    return undefined;
  }

  /** Every request in flight, oldest first. */
  all(): Pending[] {
    return [...this.pending.values()];
  }

  /** The origins of the agent calls in flight, oldest first. */
  origins(): CallOrigin[] {
    return this.all().flatMap((p) => (p.origin ? [p.origin] : []));
  }
}
