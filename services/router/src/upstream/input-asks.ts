/**
 * The client input a modern upstream asked for in an `input_required` result, requested from a session-era
 * agent as real server-to-client requests. Each gets an id of its own (`mg-input-<n>`, never a number, so it
 * cannot meet an upstream's own request id) and goes the way upstream server-to-client requests go (the
 * connection's serverRequest hook: to the call's stream, through ServerRequests); the agent's answer comes
 * back through the connection's `respond` and settles the ask instead of reaching the upstream. An ask ends
 * with the agent's answer, its deadline, the cancellation of its call or the connection going down; the
 * agent is told when it ends unanswered.
 */
import {
  ErrorCodes,
  type JsonRpcErrorObject,
  type JsonRpcId,
  type JsonRpcRequest,
} from '@meshgate/contracts';
import type { CallOrigin, Outcome } from './relay-table';

/** Where asks go and how an unanswered one is withdrawn. */
export interface AskChannel {
  /** Sends the request to the agent of `origin`. */
  send(request: JsonRpcRequest, origin: CallOrigin): void;
  /** The agent need not answer `id` any more. */
  withdraw(id: string, reason: string): void;
}

interface Waiting {
  origin: CallOrigin;
  settle(outcome: Outcome): void;
}

/** The code of a call the agent cancelled (as the relay answers it). */
const Cancelled = -32800;

/** The asks of one connection in flight. */
export class InputAsks {
  private n = 0;
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly channel: AskChannel) {}

  /** Asks the agent of `origin` one request; resolves with its answer, or an error once it cannot come. */
  ask(
    method: string,
    params: Record<string, unknown>,
    origin: CallOrigin,
    timeoutMs: number,
  ): Promise<Outcome> {
    if (timeoutMs <= 0) return Promise.resolve(unanswered(method));
    const id = `mg-input-${++this.n}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.end(id, unanswered(method)), timeoutMs);
      this.waiting.set(id, {
        origin,
        settle: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      });
      this.channel.send({ jsonrpc: '2.0', id, method, params }, origin);
    });
  }

  /** The agent answered `id`; false when it is not an ask of this connection (an upstream request's id). */
  answer(id: JsonRpcId, outcome: Outcome): boolean {
    const waiting = typeof id === 'string' ? this.waiting.get(id) : undefined;
    if (!waiting || typeof id !== 'string') return false;
    this.waiting.delete(id);
    waiting.settle(outcome);
    return true;
  }

  /** Ends the asks of an agent call the agent cancelled; true when there were any. */
  cancelCall(sessionId: string, agentId: JsonRpcId): boolean {
    let found = false;
    for (const [id, w] of this.waiting)
      if (w.origin.sessionId === sessionId && w.origin.agentId === agentId) {
        found = true;
        this.end(id, { error: { code: Cancelled, message: 'request cancelled' } });
      }
    return found;
  }

  /** Ends every ask of a session that ended. */
  dropSession(sessionId: string): void {
    for (const [id, w] of this.waiting)
      if (w.origin.sessionId === sessionId)
        this.end(id, { error: { code: ErrorCodes.InternalError, message: 'the client session ended' } });
  }

  /** Ends every ask (the connection went down): the call cannot be retried upstream anyway. */
  failAll(outcome: { error: JsonRpcErrorObject }): void {
    for (const id of [...this.waiting.keys()]) this.end(id, outcome);
  }

  private end(id: string, outcome: { error: JsonRpcErrorObject }): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    this.channel.withdraw(id, outcome.error.message);
    waiting.settle(outcome);
  }
}

function unanswered(method: string): { error: JsonRpcErrorObject } {
  return {
    error: { code: ErrorCodes.RequestTimeout, message: `the client did not answer ${method} in time` },
  };
}
