/**
 * Multi round-trip requests for 2026-07-28 agents calling session-era upstreams. A stateless call whose
 * upstream sends a server-to-client request (sampling, elicitation, roots) on the call's related-message
 * channel is answered `input_required`, while the router call stays open, held by this replica: the
 * request becomes an input request under a key, and the answer carries a requestState naming this replica,
 * the hold and its round (request-state.ts). The agent's retry, on any replica, resumes the hold with its
 * `inputResponses`: each answer goes upstream as the response to the gateway's request id (on the issuing
 * router replica's to-upstream subject), and the resumer waits for what comes next: the final outcome, or
 * more input requests (a new round, a new requestState). Input requests the agent left unanswered are asked
 * again. A round's state is spent once resumed (a replay is refused), a call whose agent did not come back
 * within the hold time is cancelled upstream, and so is one whose agent went away while its retry waited.
 * A resumer that would wait past its own deadline gets a state-only `input_required` ("still working").
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Bus } from '@meshgate/bus';
import {
  ErrorCodes,
  JsonRpcErrorObject,
  Subjects,
  parseGatewayRequestId,
  type HoldOutcome,
  type InputRequest,
  type JsonRpcId,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type ToAgent,
  type ToUpstream,
} from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';
import { signRequestState } from './request-state';

/** Whoever waits for a call's next outcome: the first HTTP exchange, then each resume. */
export interface Waiter {
  /** A message related to the call (progress, log), as the router sent it. */
  notify(message: ToAgent['message']): void;
  /** The outcome; the waiter is detached after it. */
  settle(outcome: HoldOutcome): void;
}

/** A held call's identity as its requestState binds it. */
export interface CallBinding {
  tenant: string;
  principal: string;
  method: string;
  target: string;
  digest: string;
}

/** What every call of the replica shares. */
export interface HoldDeps {
  bus: Bus;
  key: Buffer;
  instance: string;
  holdMs: number;
  maxHolds: number;
  logger: Logger;
}

/** The server-to-client requests that become input requests, and the answer each must be. */
const Answers: Record<string, z.ZodType> = {
  'elicitation/create': z.looseObject({
    action: z.enum(['accept', 'decline', 'cancel']),
    content: z.record(z.string(), z.unknown()).optional(),
  }),
  'sampling/createMessage': z.looseObject({
    role: z.enum(['user', 'assistant']),
    content: z.unknown().refine((c) => typeof c === 'object' && c !== null, 'a content block or list'),
    model: z.string(),
  }),
  'roots/list': z.looseObject({ roots: z.array(z.looseObject({ uri: z.string() })) }),
};

/** Code of a call ended because it was cancelled (as in LSP; MCP leaves it to the implementation). */
const RequestCancelled = -32800;

/** Time kept back from a resumer's deadline so a "still working" answer reaches it in time. */
const ReplyMarginMs = 1000;

interface Pending {
  gatewayId: JsonRpcId;
  request: InputRequest;
}

/** True for a request (it has an id), false for a notification. */
export function isRequest(m: ToAgent['message']): m is JsonRpcRequest {
  return typeof m['id'] === 'string' || typeof m['id'] === 'number';
}

/** The outcome a router's JSON-RPC response stands for. */
export function outcomeOf(message: JsonRpcResponse): HoldOutcome {
  const error = JsonRpcErrorObject.safeParse(message['error']);
  if (error.success) return { kind: 'error', error: error.data };
  const result = message['result'];
  return typeof result === 'object' && result !== null && !Array.isArray(result)
    ? { kind: 'result', result: result as Record<string, unknown> }
    : {
        kind: 'error',
        error: {
          code: ErrorCodes.InternalError,
          message: 'the router answered neither a result nor an error',
        },
      };
}

/** A server-to-client request as the 2026-07-28 era embeds it: no envelope, no task, no elicitationId. */
function inputRequest(m: JsonRpcRequest): InputRequest {
  const params = m.params ? { ...m.params } : undefined;
  if (params) {
    delete params['task'];
    if (m.method === 'elicitation/create' && params['mode'] === 'url') delete params['elicitationId'];
  }
  return params ? { method: m.method, params } : { method: m.method };
}

/**
 * One stateless call, from its first exchange until its outcome is delivered; held between rounds when its
 * method may answer `input_required` (any other method's server-to-client requests are refused upstream).
 */
export class ModernCall {
  readonly id = randomBytes(16).toString('base64url');
  private round = 0;
  private readonly pending = new Map<string, Pending>();
  private unreported: JsonRpcRequest[] = [];
  private keys = 0;
  private final: HoldOutcome | null = null;
  private waiter: Waiter | null;
  private expiry: NodeJS.Timeout | undefined;
  private waitLimit: NodeJS.Timeout | undefined;
  private emitting = false;
  private held = false;
  private done = false;

  constructor(
    private readonly deps: HoldDeps,
    private readonly holds: HeldCalls,
    /** The virtual session the call runs in. */
    readonly sessionId: string,
    private readonly binding: CallBinding,
    /** Whether the call's method may answer `input_required` at all. */
    private readonly roundTrips: boolean,
    first: Waiter,
  ) {
    this.waiter = first;
  }

  /** A message on the call's related-message channel. */
  related(m: ToAgent['message']): void {
    if (this.done) return;
    if (!isRequest(m)) {
      this.waiter?.notify(m);
      return;
    }
    if (m.method === 'ping') return this.answerUpstream(m.id, { result: {} });
    if (!this.roundTrips || !Object.hasOwn(Answers, m.method))
      return this.answerUpstream(m.id, {
        error: {
          code: ErrorCodes.MethodNotFound,
          message: `a 2026-07-28 client cannot answer ${m.method.slice(0, 64)} during ${this.binding.method}`,
        },
      });
    this.unreported.push(m);
    this.scheduleEmit();
  }

  /** The router's answer to the call. */
  finished(outcome: HoldOutcome): void {
    if (this.done) return;
    this.final = outcome;
    if (this.waiter) this.deliver(outcome);
  }

  /**
   * The agent's retry of round `round`, answering input requests by key; `waiter` hears what comes next.
   * Refused (and nothing spent) when the round is not the current one, another resume waits, or an answer
   * is malformed.
   */
  resume(
    round: number,
    responses: Record<string, Record<string, unknown>>,
    waiter: Waiter,
    deadline: number,
  ): void {
    if (this.done || round !== this.round || this.waiter)
      return waiter.settle({ kind: 'refused', reason: 'it was already used' });
    for (const [key, answer] of Object.entries(responses)) {
      const pending = this.pending.get(key);
      if (!pending) continue;
      const checked = Answers[pending.request.method]!.safeParse(answer);
      if (!checked.success)
        return waiter.settle({
          kind: 'error',
          error: {
            code: ErrorCodes.InvalidParams,
            message: `Invalid params: inputResponses.${key.slice(0, 64)} is not a valid ${pending.request.method} result`,
          },
        });
    }
    this.round++;
    clearTimeout(this.expiry);
    this.waiter = waiter;
    for (const [key, answer] of Object.entries(responses)) {
      const pending = this.pending.get(key);
      if (!pending) continue;
      this.pending.delete(key);
      this.answerUpstream(pending.gatewayId, { result: answer });
    }
    if (this.final) return this.deliver(this.final);
    if (this.pending.size > 0 || this.unreported.length > 0) return this.scheduleEmit();
    const wait = Math.max(0, deadline - Date.now() - ReplyMarginMs);
    this.waitLimit = setTimeout(() => this.emit(), wait);
    this.waitLimit.unref();
  }

  /** The agent is gone (its connection closed while it waited) or gave up: the call ends upstream. */
  cancel(reason: string): void {
    if (this.done) return;
    for (const { gatewayId } of this.pending.values())
      this.answerUpstream(gatewayId, { error: { code: ErrorCodes.InternalError, message: reason } });
    for (const m of this.unreported)
      this.answerUpstream(m.id, { error: { code: ErrorCodes.InternalError, message: reason } });
    const cancel: ToUpstream = {
      v: 1,
      sessionId: this.sessionId,
      message: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: this.id, reason } },
    };
    try {
      this.deps.bus.publish(Subjects.sessionToUpstream(this.sessionId), cancel);
    } catch (err) {
      this.deps.logger.warn({ err }, 'cancellation of a held call not relayed');
    }
    const waiter = this.waiter;
    this.dispose();
    waiter?.settle({
      kind: 'error',
      error: { code: RequestCancelled, message: `Request cancelled: ${reason}` },
    });
  }

  /** Whether `tenant`/`principal` may resume this call. */
  belongsTo(tenant: string, principal: string): boolean {
    return this.binding.tenant === tenant && this.binding.principal === principal;
  }

  private scheduleEmit(): void {
    if (!this.waiter || this.emitting) return;
    this.emitting = true;
    // Requests arriving together (one NATS batch) go to the agent in one round.
    setImmediate(() => {
      this.emitting = false;
      if (!this.done && this.waiter) this.emit();
    });
  }

  /** Tells the waiter what input is needed now (possibly none: "still working"), and holds the call. */
  private emit(): void {
    clearTimeout(this.waitLimit);
    if (this.done || !this.waiter) return;
    if (this.final) return this.deliver(this.final);
    if (!this.held && !this.holds.add(this)) {
      for (const m of this.unreported.splice(0))
        this.answerUpstream(m.id, {
          error: {
            code: ErrorCodes.Overloaded,
            message: 'the gateway holds too many calls waiting for input',
          },
        });
      return;
    }
    this.held = true;
    for (const m of this.unreported.splice(0)) {
      const short = m.method.split('/')[0] ?? 'input';
      this.pending.set(`${short}-${++this.keys}`, { gatewayId: m.id, request: inputRequest(m) });
    }
    const expiresAt = Date.now() + this.deps.holdMs;
    const requestState = signRequestState(this.deps.key, {
      k: 'hold',
      i: this.deps.instance,
      h: this.id,
      r: this.round,
      t: this.binding.tenant,
      p: this.binding.principal,
      m: this.binding.method,
      n: this.binding.target,
      d: this.binding.digest,
      e: expiresAt,
    });
    const inputRequests = Object.fromEntries([...this.pending].map(([key, p]) => [key, p.request]));
    const waiter = this.waiter;
    this.waiter = null;
    this.expiry = setTimeout(() => this.cancel('the client did not answer in time'), this.deps.holdMs);
    this.expiry.unref();
    waiter.settle({ kind: 'input_required', inputRequests, requestState });
  }

  private deliver(outcome: HoldOutcome): void {
    const waiter = this.waiter;
    this.dispose();
    waiter?.settle(outcome);
  }

  private dispose(): void {
    this.done = true;
    this.waiter = null;
    clearTimeout(this.expiry);
    clearTimeout(this.waitLimit);
    this.holds.remove(this.id);
  }

  /** Answers a server-to-client request on the router replica that issued it. */
  private answerUpstream(
    id: JsonRpcId,
    answer: { result: Record<string, unknown> } | { error: { code: number; message: string } },
  ): void {
    const issuer = parseGatewayRequestId(id);
    if (!issuer) {
      this.deps.logger.warn(
        { method: this.binding.method },
        'a server-to-client request without a gateway id',
      );
      return;
    }
    const out: ToUpstream = { v: 1, sessionId: this.sessionId, message: { jsonrpc: '2.0', id, ...answer } };
    this.deps.bus.publish(Subjects.routerToUpstream(issuer.instance), out);
  }
}

/** The calls this replica holds for their agents' retries, by hold id. */
export class HeldCalls {
  private readonly calls = new Map<string, ModernCall>();

  constructor(private readonly maxHolds: number) {}

  get size(): number {
    return this.calls.size;
  }

  /** Registers a call that starts waiting for input; false when the replica holds too many. */
  add(call: ModernCall): boolean {
    if (this.calls.has(call.id)) return true;
    if (this.calls.size >= this.maxHolds) return false;
    this.calls.set(call.id, call);
    return true;
  }

  remove(id: string): void {
    this.calls.delete(id);
  }

  /** The held call `id` of `tenant`/`principal`; another principal's answers like an unknown one. */
  find(id: string, tenant: string, principal: string): ModernCall | undefined {
    const call = this.calls.get(id);
    return call?.belongsTo(tenant, principal) ? call : undefined;
  }

  /** Cancels every held call (the replica stops). */
  cancelAll(reason: string): void {
    for (const call of [...this.calls.values()]) call.cancel(reason);
  }
}
