/**
 * Every open exchange with an agent (a POST call in flight, a GET stream), counted per session and per
 * process so that a hostile client cannot hold unbounded connections, and reachable for closing when its
 * session ends or the replica stops.
 */

/** A registered exchange; release it when the exchange ends. */
export interface StreamLease {
  release(): void;
}

/** A POST call in flight, or a GET (or resumed) stream. */
export type ExchangeKind = 'call' | 'stream';

interface Entry {
  sessionId: string;
  kind: ExchangeKind;
  /** Ends the exchange (a GET stream ends, a POST call is answered); must be idempotent. */
  close: (reason: string) => void;
}

/** Limits and tracking of open exchanges; see the file header. */
export class StreamRegistry {
  private readonly entries = new Set<Entry>();
  private readonly perSession = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private calls = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerSession: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Registers an exchange; null when a limit is reached. */
  acquire(sessionId: string, kind: ExchangeKind, close: (reason: string) => void): StreamLease | null {
    const count = this.perSession.get(sessionId) ?? 0;
    if (this.entries.size >= this.maxTotal || count >= this.maxPerSession) return null;
    const entry: Entry = { sessionId, kind, close };
    this.entries.add(entry);
    this.perSession.set(sessionId, count + 1);
    if (kind === 'call') this.calls++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.entries.delete(entry);
        const left = (this.perSession.get(sessionId) ?? 1) - 1;
        if (left > 0) this.perSession.set(sessionId, left);
        else this.perSession.delete(sessionId);
        if (kind === 'call' && --this.calls === 0) this.idleWaiters.splice(0).forEach((w) => w());
      },
    };
  }

  /** Closes every exchange of a session (it was deleted or expired). */
  closeSession(sessionId: string): void {
    for (const e of [...this.entries]) if (e.sessionId === sessionId) e.close('the session ended');
  }

  /** Closes every exchange of one kind, or all. */
  closeAll(kind?: ExchangeKind): void {
    for (const e of [...this.entries])
      if (kind === undefined || e.kind === kind) e.close('the gateway replica is stopping');
  }

  /** Resolves when no call is in flight any more, or after `timeoutMs`. */
  async callsSettled(timeoutMs: number): Promise<void> {
    if (this.calls === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}
