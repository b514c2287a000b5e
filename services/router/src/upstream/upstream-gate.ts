/**
 * Upstream protection: a gate per upstream server that lets at most `maxConcurrent` requests be in flight
 * to it, keeps at most `maxQueue` more waiting on this replica (first come first served) and sheds the rest
 * at once with an Overloaded error. Waiters leave the queue when their request is settled (deadline,
 * cancellation, connection down: the caller aborts their signal) or when `queueTimeoutMs` passes.
 *
 * A definition that sets `maxConcurrent` gets a limit shared by every router replica: besides a local slot,
 * each request takes one of the server's shared slots (libs/policy `Limiter.sharedSlots`, held in the limits
 * KV bucket and leased to replicas in blocks, so most requests need no I/O). While every slot is taken
 * elsewhere the queue asks again every {@link SharedRetryMs}; when the limit state cannot be reached, queued
 * requests are refused (fail closed). Without `maxConcurrent` the default ({@link DefaultMaxConcurrent}) is a
 * per-replica guard only.
 */
import type { SharedSlots, SlotAnswer } from '@meshgate/policy';
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

/** While every shared slot is taken elsewhere, a queue asks the limit state again this often. */
export const SharedRetryMs = 25;

/** What one gate has seen (counters since the replica started, gauges now). */
export interface GateStats {
  maxConcurrent: number;
  /** True when maxConcurrent holds across all replicas; false for the per-replica default. */
  shared: boolean;
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
  /** Refused because the shared limit state could not be reached. */
  unavailable: number;
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

const NoSharedSlot = () => {};

/** The concurrency gate of one upstream server. */
export class UpstreamGate {
  private inFlight = 0;
  private readonly queue = new Set<Queued>();
  private readonly counts = {
    peakInFlight: 0,
    admitted: 0,
    shed: 0,
    queueTimeouts: 0,
    abandoned: 0,
    unavailable: 0,
  };
  /** True while the queue's head waits for the limit state's answer. */
  private asking = false;
  private retry: NodeJS.Timeout | undefined;

  /** `shared`: the server's slots across all replicas, when its definition sets `maxConcurrent`. */
  constructor(
    readonly server: string,
    private limits: GateLimits,
    private shared?: SharedSlots,
  ) {}

  /**
   * Applies new limits (and the shared slots, or none); a larger limit admits waiters at once, a smaller
   * one lets the excess finish.
   */
  resize(limits: GateLimits, shared?: SharedSlots): void {
    this.limits = limits;
    this.shared = shared;
    this.drain();
  }

  /**
   * Asks for a slot. Admits synchronously when one is free and nobody waits; refuses synchronously when the
   * queue is full; otherwise queues. An aborted `signal` removes the waiter without calling it.
   */
  enter(waiter: GateWaiter, signal: AbortSignal): void {
    if (signal.aborted) return;
    let full = this.inFlight >= this.limits.maxConcurrent;
    if (this.queue.size === 0 && !full) {
      const slot = this.shared ? this.shared.tryAcquire() : NoSharedSlot;
      if (typeof slot === 'function') return this.admit(waiter, slot);
      if (slot === 'unavailable') return this.refuseUnavailable(waiter);
      full = slot === 'full';
    }
    // Only a request that must wait for a slot known to be taken counts against the queue; one that waits
    // for the limit state's answer is queued first and shed afterwards if the answer is `full`.
    if (full && this.queue.size >= this.limits.maxQueue) return this.shed(waiter);
    const entry: Queued = { waiter, signal, onAbort: () => this.leave(entry, 'abandoned'), timer: undefined };
    const wait = this.limits.queueTimeoutMs;
    if (wait !== undefined) entry.timer = setTimeout(() => this.timeout(entry, wait), wait);
    signal.addEventListener('abort', entry.onAbort, { once: true });
    this.queue.add(entry);
    this.drain();
  }

  /** The gate's numbers now. */
  stats(): GateStats {
    return {
      maxConcurrent: this.limits.maxConcurrent,
      shared: this.shared !== undefined,
      maxQueue: this.limits.maxQueue,
      inFlight: this.inFlight,
      queued: this.queue.size,
      ...this.counts,
    };
  }

  private admit(waiter: GateWaiter, freeShared: () => void): void {
    this.inFlight++;
    this.counts.admitted++;
    if (this.inFlight > this.counts.peakInFlight) this.counts.peakInFlight = this.inFlight;
    let released = false;
    waiter.admit(() => {
      if (released) return;
      released = true;
      this.inFlight--;
      freeShared();
      this.drain();
    });
  }

  /** Hands free slots to the oldest waiters (asking the limit state for shared ones, one at a time). */
  private drain(): void {
    while (!this.asking && this.inFlight < this.limits.maxConcurrent) {
      const entry = first(this.queue);
      if (!entry) return;
      const slot = this.shared ? this.shared.tryAcquire() : NoSharedSlot;
      if (slot === null) return this.ask(this.shared as SharedSlots);
      if (!this.settle(entry, slot)) return;
    }
  }

  /**
   * Gives `slot` to the queue's `entry`; false when every shared slot is taken (the excess beyond maxQueue
   * is shed and the queue asks again later).
   */
  private settle(entry: Queued, slot: SlotAnswer): boolean {
    if (slot === 'full') {
      // The newest beyond maxQueue are shed (one pass: a burst of thousands costs no more than a walk).
      const excess = [...this.queue].slice(this.limits.maxQueue);
      for (const newest of excess.reverse()) {
        this.remove(newest);
        this.shed(newest.waiter);
      }
      this.retryLater();
      return false;
    }
    this.remove(entry);
    if (slot === 'unavailable') this.refuseUnavailable(entry.waiter);
    else this.admit(entry.waiter, slot);
    return true;
  }

  private ask(shared: SharedSlots): void {
    this.asking = true;
    void shared.acquire().then((slot) => {
      this.asking = false;
      const entry = first(this.queue);
      if (entry && this.inFlight < this.limits.maxConcurrent) {
        if (!this.settle(entry, slot)) return;
      } else if (typeof slot === 'function') slot();
      this.drain();
    });
  }

  private retryLater(): void {
    if (this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.drain();
    }, SharedRetryMs);
    this.retry.unref();
  }

  private shed(waiter: GateWaiter): void {
    this.counts.shed++;
    const where = this.shared ? ' (limit shared by all router replicas)' : '';
    waiter.refuse({
      code: ErrorCodes.Overloaded,
      message: `upstream ${this.server} overloaded: ${this.limits.maxConcurrent} calls in flight${where}, queue full`,
    });
  }

  private refuseUnavailable(waiter: GateWaiter): void {
    this.counts.unavailable++;
    waiter.refuse({
      code: ErrorCodes.ServiceUnavailable,
      message: `upstream ${this.server}: its shared concurrency limit cannot be checked now; retry shortly`,
    });
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

function first<T>(set: Set<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}

/** Where a replica gets a server's slots shared with every other replica (the limiter's `sharedSlots`). */
export type SharedSlotSource = (server: string, limit: number) => SharedSlots;

/** The gates of one router replica, one per server name, kept for the replica's life (their counters too). */
export class UpstreamGates {
  private readonly gates = new Map<string, UpstreamGate>();

  /** `sharedSlots`: where an explicit `maxConcurrent` is shared; without it every limit is per replica. */
  constructor(private readonly sharedSlots?: SharedSlotSource) {}

  /** The gate of `def`'s server, with the definition's current limits applied. */
  forServer(def: ServerDefinition): UpstreamGate {
    const limits = gateLimits(def);
    const shared =
      def.maxConcurrent !== undefined && this.sharedSlots
        ? this.sharedSlots(def.name, def.maxConcurrent)
        : undefined;
    let gate = this.gates.get(def.name);
    if (gate) gate.resize(limits, shared);
    else this.gates.set(def.name, (gate = new UpstreamGate(def.name, limits, shared)));
    return gate;
  }

  /** Every gate's numbers, by server name (for `$SRV.STATS` and metrics). */
  stats(): Record<string, GateStats> {
    const out: Record<string, GateStats> = {};
    for (const [name, gate] of this.gates) out[name] = gate.stats();
    return out;
  }
}
