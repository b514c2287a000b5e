/**
 * The life cycle of an upstream connection: connect, stay up until the transport goes away, wait an
 * exponentially growing delay (reset once a connection stayed up for a while), connect again; until stop.
 * Callers wait for readiness within their own deadline; while the last attempt failed outright they get
 * its error at once instead of waiting for the next attempt.
 */
import type { Logger } from '@meshgate/config';

/** First restart delay; it doubles with every restart that follows a short life, up to the configured max. */
export const BaseBackoffMs = 250;
/** A connection that stayed up this long resets the backoff. */
export const StableMs = 10_000;

/** The events one generation (one transport) reports. */
export interface LifecycleEvents {
  /** Ends the current generation: the transport is gone. */
  closed(reason: string): void;
  /** False once the generation these events belong to has ended (late messages are dropped). */
  isCurrent(): boolean;
}

/** What the life cycle drives. */
export interface LifecycleOptions {
  log: Logger;
  backoffMaxMs: number;
  /** Opens a transport and runs the handshake; rejects when that fails. */
  connect(events: LifecycleEvents): Promise<unknown>;
  /** The handshake succeeded; `reconnected` after an earlier generation had been ready. */
  ready(reconnected: boolean): void;
  /** The generation ended: release its transport and fail what it carried. */
  down(reason: string, stopping: boolean): Promise<void>;
}

/** The restart delay after `failures` restarts in a row that followed short lives. */
export function backoffDelay(failures: number, maxMs: number): number {
  return Math.min(maxMs, BaseBackoffMs * 2 ** Math.min(failures, 20));
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/** The connect/up/down/backoff loop of one connection. */
export class Lifecycle {
  private state: 'idle' | 'connecting' | 'ready' | 'backoff' | 'stopped' = 'idle';
  private generation = 0;
  private everReady = false;
  private lastError: string | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly stopped: Promise<string>;
  private signalStop!: (reason: string) => void;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LifecycleOptions) {
    this.stopped = new Promise((resolve) => (this.signalStop = resolve));
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'connecting';
    this.running = this.run();
  }

  async stop(): Promise<void> {
    if (this.state !== 'stopped') {
      this.state = 'stopped';
      this.signalStop('connection closed');
      this.rejectWaiters(new Error('connection closed'));
    }
    await this.running;
  }

  /** Resolves once ready; rejects at `deadline`, on stop, or at once while the last attempt failed. */
  whenReady(deadline: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'stopped' || this.state === 'idle')
      return Promise.reject(new Error('connection closed'));
    if (this.state === 'backoff' && this.lastError !== undefined)
      return Promise.reject(new Error(this.lastError));
    const ms = deadline - Date.now();
    if (ms <= 0) return Promise.reject(new Error('not ready in time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(this.lastError ?? `not ready within ${ms} ms`));
      }, ms);
      const waiter: Waiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
      this.waiters.add(waiter);
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.state !== 'stopped') {
      this.state = 'connecting';
      const { reason, upMs } = await this.attempt();
      if (this.isStopped()) return;
      if (upMs < 0) {
        this.lastError = reason;
        this.rejectWaiters(new Error(reason));
      }
      if (upMs >= StableMs) failures = 0;
      const delay = backoffDelay(failures++, this.opts.backoffMaxMs);
      this.opts.log.warn({ reason, retryInMs: delay }, 'upstream connection down');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((r) => (timer = setTimeout(r, delay))), this.stopped]);
      clearTimeout(timer);
    }
  }

  /** One generation; returns why it ended and how long it was up (-1 when it never became ready). */
  private async attempt(): Promise<{ reason: string; upMs: number }> {
    const generation = ++this.generation;
    let closed!: (reason: string) => void;
    const whenClosed = new Promise<string>((resolve) => (closed = resolve));
    const events: LifecycleEvents = {
      closed: (reason) => generation === this.generation && closed(reason),
      isCurrent: () => generation === this.generation,
    };
    let readyAt: number | undefined;
    let reason: string;
    try {
      const connected = this.opts.connect(events).then(() => {
        if (generation !== this.generation || this.state === 'stopped') return 'connection closed';
        readyAt = Date.now();
        this.becomeReady();
        return Promise.race([whenClosed, this.stopped]);
      });
      reason = await Promise.race([connected, whenClosed, this.stopped]);
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    this.generation++;
    if (this.state !== 'stopped') this.state = 'backoff';
    await this.opts.down(reason, this.state === 'stopped');
    return { reason, upMs: readyAt === undefined ? -1 : Date.now() - readyAt };
  }

  private becomeReady(): void {
    this.state = 'ready';
    this.lastError = undefined;
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
    const reconnected = this.everReady;
    this.everReady = true;
    this.opts.ready(reconnected);
  }

  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private rejectWaiters(err: Error): void {
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
  }
}
