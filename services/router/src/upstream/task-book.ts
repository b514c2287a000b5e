/**
 * The tasks created through one upstream connection and the session that created each. A connection
 * shared by many sessions is a single client to the upstream, which therefore lists, answers and reports
 * every task it holds to all of them; the router keeps each session to its own tasks with this book
 * (ADR 001: never hand one user's data to another). A task keeps the progress token of the call that
 * created it, since the upstream reports the task's progress on that token for the task's whole life; a
 * task the gateway itself polls for an agent without tasks (task-results) is held by that agent's call, so
 * what the upstream says about it goes to that call. Kept in memory only, released with the session.
 */
import type { Attribution } from './attribution';
import type { CallOrigin } from './relay-table';

/** Most tasks remembered per connection; the oldest are forgotten first. */
export const MaxTasksPerConnection = 10_000;

/** The progress token of the call that created a task: the one sent upstream and the agent's own. */
export interface TaskProgress {
  upstreamToken: string;
  agentToken: string | number;
}

interface Entry {
  sessionId: string;
  progress: TaskProgress | undefined;
  /** The agent call the gateway polls this task for (the agent never sees the task itself). */
  heldBy: CallOrigin | undefined;
}

/** Where progress on a task's token goes: the agent's own token, and whose it is. */
export interface ProgressRoute {
  agentToken: string | number;
  attribution: Attribution;
}

export class TaskBook {
  private readonly entries = new Map<string, Entry>();
  /** Task id by upstream progress token. */
  private readonly tokens = new Map<string, string>();
  /** The agent calls whose tasks the gateway polls. */
  private readonly holding = new Set<CallOrigin>();

  constructor(private readonly max = MaxTasksPerConnection) {}

  /**
   * Task `taskId` was created by a call of `sessionId` (`origin`, which asked for progress on `progress`);
   * it is held by that call when the gateway polls the tasks it creates (`holdFor`).
   */
  record(taskId: string, sessionId: string, progress?: TaskProgress, origin?: CallOrigin): void {
    this.forget(taskId);
    const heldBy = origin && this.holding.has(origin) ? origin : undefined;
    this.entries.set(taskId, { sessionId, progress, heldBy });
    if (progress) this.tokens.set(progress.upstreamToken, taskId);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.forget(oldest.value);
    }
  }

  /** The session that created `taskId`, if this connection carried it. */
  ownerOf(taskId: unknown): string | undefined {
    return typeof taskId === 'string' ? this.entries.get(taskId)?.sessionId : undefined;
  }

  /** The gateway polls whatever task the agent call `origin` creates (until `releaseHold`). */
  holdFor(origin: CallOrigin): void {
    this.holding.add(origin);
  }

  releaseHold(origin: CallOrigin): void {
    this.holding.delete(origin);
  }

  /** The agent call holding `taskId`, when the gateway polls it for one. */
  heldBy(taskId: unknown): CallOrigin | undefined {
    return typeof taskId === 'string' ? this.entries.get(taskId)?.heldBy : undefined;
  }

  /**
   * Where progress on upstream token `token` goes when no request in flight owns it: the task's creating
   * call while the gateway polls the task for it, else the creating session.
   */
  progressRoute(token: unknown): ProgressRoute | undefined {
    const taskId = typeof token === 'string' ? this.tokens.get(token) : undefined;
    const entry = taskId === undefined ? undefined : this.entries.get(taskId);
    if (!entry?.progress) return undefined;
    const attribution: Attribution = entry.heldBy
      ? { kind: 'call', origin: entry.heldBy }
      : { kind: 'session', sessionId: entry.sessionId };
    return { agentToken: entry.progress.agentToken, attribution };
  }

  /** The task reached a terminal status: no more progress is relayed for it. */
  ended(taskId: unknown): void {
    const entry = typeof taskId === 'string' ? this.entries.get(taskId) : undefined;
    if (!entry?.progress) return;
    this.tokens.delete(entry.progress.upstreamToken);
    entry.progress = undefined;
  }

  /** Forgets a task (the gateway finished polling it: its agent never knew it). */
  forget(taskId: string): void {
    const entry = this.entries.get(taskId);
    if (!entry) return;
    if (entry.progress) this.tokens.delete(entry.progress.upstreamToken);
    this.entries.delete(taskId);
  }

  /** Forgets the tasks of a session that ended. */
  dropSession(sessionId: string): void {
    for (const [taskId, entry] of this.entries) if (entry.sessionId === sessionId) this.forget(taskId);
  }
}
