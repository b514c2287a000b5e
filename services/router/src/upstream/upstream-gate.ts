/**
 * Upstream protection: a gate per upstream server that lets at most `maxConcurrent` requests be in flight
 * to it from this router replica, keeps at most `maxQueue` more waiting (first come first served) and sheds
 * the rest at once with an Overloaded error. Waiters leave the queue when their request is settled (deadline,
 * cancellation, connection down: the caller aborts their signal) or when `queueTimeoutMs` passes. The limit
 * is per replica: N replicas may send N x maxConcurrent requests to one upstream. No I/O here.
 */
import {
  DefaultMaxConcurrent,
  DefaultMaxQueue,
  ErrorCodes,
  type JsonRpcErrorObject,
  type ServerDefinition,
} from '@meshgate/contracts';

/** The limits of one gate. */
export interface GateLimits {
  maxConcurrent: number;
  maxQueue: number;
  /** Longest wait in the queue; undefined waits until the caller aborts. */
  queueTimeoutMs: number | undefined;
}

/** What one gate has seen (counters since the replica started, gauges now). */
export interface GateStats {
  maxConcurrent: number;
  maxQueue: number;
  inFlight: number;
  queued: number;
  /** The most requests ever in flight at once. */
  peakInFlight: number;
  admitted: number;
  /** Refused at once because the queue was full. */
  shed: number;
  /** Left the queue because `queueTimeoutMs` passed. */
  queueTimeouts: number;
  /** Left the queue because their request was settled meanwhile (deadline, cancel, connection down). */
  abandoned: number;
}

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void;

/** Someone waiting for a slot: exactly one of the two is called, unless the signal aborts first. */
export interface GateWaiter {
  admit(release: Release): void;
  refuse(error: JsonRpcErrorObject): void;
}

interface Queued {
  waiter: GateWaiter;
  signal: AbortSignal;
  onAbort: () => void;
  timer: NodeJS.Timeout | undefined;
}

/** The limits a definition asks for, with the defaults filled in. */
export function gateLimits(def: ServerDefinition): GateLimits {
  return {
    maxConcurrent: def.maxConcurrent ?? DefaultMaxConcurrent,
    maxQueue: def.maxQueue ?? DefaultMaxQueue,
    queueTimeoutMs: def.queueTimeoutMs,
  };
}

/** The concurrency gate of one upstream server. */
export class UpstreamGate {
  private inFlight = 0;
  private readonly queue = new Set<Queued>();
  private readonly counts = { peakInFlight: 0, admitted: 0, shed: 0, queueTimeouts: 0, abandoned: 0 };

  constructor(
    readonly server: string,
    private limits: GateLimits,
  ) {}

  /** Applies new limits; a larger limit admits waiters at once, a smaller one lets the excess finish. */
  resize(limits: GateLimits): void {
    this.limits = limits;
    this.drain();
  }

  /**
   * Asks for a slot. Admits synchronously when one is free and nobody waits; refuses synchronously when the
   * queue is full; otherwise queues. An aborted `signal` removes the waiter without calling it.
   */
  enter(waiter: GateWaiter, signal: AbortSignal): void {
    if (signal.aborted) return;
    if (this.queue.size === 0 && this.inFlight < this.limits.maxConcurrent) return this.admit(waiter);
    if (this.queue.size >= this.limits.maxQueue) {
      this.counts.shed++;
      return waiter.refuse({
        code: ErrorCodes.Overloaded,
        message: `upstream ${this.server} overloaded: ${this.inFlight} calls in flight, queue full`,
      });
    }
    const entry: Queued = { waiter, signal, onAbort: () => this.leave(entry, 'abandoned'), timer: undefined };
    const wait = this.limits.queueTimeoutMs;
    if (wait !== undefined) entry.timer = setTimeout(() => this.timeout(entry, wait), wait);
    signal.addEventListener('abort', entry.onAbort, { once: true });
    this.queue.add(entry);
  }

  /** The gate's numbers now. */
  stats(): GateStats {
    return {
      maxConcurrent: this.limits.maxConcurrent,
      maxQueue: this.limits.maxQueue,
      inFlight: this.inFlight,
      queued: this.queue.size,
      ...this.counts,
    };
  }

  private admit(waiter: GateWaiter): void {
    this.inFlight++;
    this.counts.admitted++;
    if (this.inFlight > this.counts.peakInFlight) this.counts.peakInFlight = this.inFlight;
    let released = false;
    waiter.admit(() => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.drain();
    });
  }

  /** Hands free slots to the oldest waiters. */
  private drain(): void {
    for (const entry of this.queue) {
      if (this.inFlight >= this.limits.maxConcurrent) return;
      this.remove(entry);
      this.admit(entry.waiter);
    }
  }

  private timeout(entry: Queued, waitedMs: number): void {
    if (!this.queue.has(entry)) return;
    this.leave(entry, 'queueTimeouts');
    entry.waiter.refuse({
      code: ErrorCodes.RequestTimeout,
      message: `upstream ${this.server} overloaded: no free slot within ${waitedMs} ms (${this.inFlight} calls in flight)`,
    });
  }

  private leave(entry: Queued, why: 'abandoned' | 'queueTimeouts'): void {
    if (!this.queue.has(entry)) return;
    this.remove(entry);
    this.counts[why]++;
  }

  private remove(entry: Queued): void {
    this.queue.delete(entry);
    clearTimeout(entry.timer);
    entry.signal.removeEventListener('abort', entry.onAbort);
  }
}

/** The gates of one router replica, one per server name, kept for the replica's life (their counters too). */
export class UpstreamGates {
  private readonly gates = new Map<string, UpstreamGate>();

  /** The gate of `def`'s server, with the definition's current limits applied. */
  forServer(def: ServerDefinition): UpstreamGate {
    const limits = gateLimits(def);
    let gate = this.gates.get(def.name);
    if (gate) gate.resize(limits);
    else this.gates.set(def.name, (gate = new UpstreamGate(def.name, limits)));
    return gate;
  }

  /** Every gate's numbers, by server name (for `$SRV.STATS` and metrics). */
  stats(): Record<string, GateStats> {
    const out: Record<string, GateStats> = {};
    for (const [name, gate] of this.gates) out[name] = gate.stats();
    return out;
  }
}
