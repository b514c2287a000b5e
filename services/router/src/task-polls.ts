/**
 * The agent calls this replica is polling an upstream task for (task-results), by session and agent request
 * id, so that the agent's cancellation, or the end of its session, stops the polling (and so cancels the
 * task) even while no request of the call is in flight upstream.
 */
import type { JsonRpcId } from '@meshgate/contracts';
import type { CallOrigin } from './upstream/relay-table';

function keyOf(sessionId: string, agentId: JsonRpcId): string {
  return `${sessionId}\u0000${typeof agentId}\u0000${String(agentId)}`;
}

/** The polls in progress on this replica. */
export class TaskPolls {
  private readonly byCall = new Map<string, { sessionId: string; abort: AbortController }>();

  /** Starts the poll of call `origin`; its signal aborts when the agent cancels or the session ends. */
  open(origin: CallOrigin): AbortSignal {
    const abort = new AbortController();
    this.byCall.get(keyOf(origin.sessionId, origin.agentId))?.abort.abort();
    this.byCall.set(keyOf(origin.sessionId, origin.agentId), { sessionId: origin.sessionId, abort });
    return abort.signal;
  }

  /** The poll of call `origin` is over. */
  close(origin: CallOrigin, signal: AbortSignal): void {
    const key = keyOf(origin.sessionId, origin.agentId);
    if (this.byCall.get(key)?.abort.signal === signal) this.byCall.delete(key);
  }

  /** The agent cancelled request `agentId`: true when a poll of it was stopped. */
  cancel(sessionId: string, agentId: JsonRpcId): boolean {
    const key = keyOf(sessionId, agentId);
    const poll = this.byCall.get(key);
    if (!poll) return false;
    this.byCall.delete(key);
    poll.abort.abort();
    return true;
  }

  /** The session ended: every poll of it stops. */
  dropSession(sessionId: string): void {
    for (const [key, poll] of this.byCall)
      if (poll.sessionId === sessionId) {
        this.byCall.delete(key);
        poll.abort.abort();
      }
  }

  /** Stops every poll (replica stopping). */
  clear(): void {
    for (const poll of this.byCall.values()) poll.abort.abort();
    this.byCall.clear();
  }

  get size(): number {
    return this.byCall.size;
  }
}
