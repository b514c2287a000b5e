/**
 * The tasks created through one upstream connection and the session that created each. A connection
 * shared by many sessions is a single client to the upstream, which therefore lists, answers and reports
 * every task it holds to all of them; the router keeps each session to its own tasks with this book
 * (ADR 001: never hand one user's data to another). Kept in memory only, released with the session.
 */

/** Most tasks remembered per connection; the oldest are forgotten first. */
export const MaxTasksPerConnection = 10_000;

export class TaskBook {
  private readonly owners = new Map<string, string>();

  constructor(private readonly max = MaxTasksPerConnection) {}

  /** Task `taskId` was created by a call of `sessionId`. */
  record(taskId: string, sessionId: string): void {
    this.owners.delete(taskId);
    this.owners.set(taskId, sessionId);
    if (this.owners.size > this.max) {
      const oldest = this.owners.keys().next();
      if (!oldest.done) this.owners.delete(oldest.value);
    }
  }

  /** The session that created `taskId`, if this connection carried it. */
  ownerOf(taskId: unknown): string | undefined {
    return typeof taskId === 'string' ? this.owners.get(taskId) : undefined;
  }

  /** Forgets the tasks of a session that ended. */
  dropSession(sessionId: string): void {
    for (const [taskId, owner] of this.owners) if (owner === sessionId) this.owners.delete(taskId);
  }
}
