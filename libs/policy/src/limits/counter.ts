/**
 * What the limiter asks of one counter (one rule, one kind of limit, one scope), and what it answers.
 * A counter takes one unit for a call: at once from what this replica already leased (the fast path, no
 * I/O), or after a compare-and-set on its KV key (the slow path).
 */
import type { KV } from '@nats-io/kv';
import type { LimitKind } from './limit-keys';

/** Why a counter refused a unit. */
export interface Refusal {
  kind: LimitKind;
  /** True when the limit state could not be read or written: the counter cannot tell, so it refuses. */
  unavailable: boolean;
  /** When a retry may succeed, in ms from now. */
  retryAfterMs?: number;
}

/** A unit taken for a call. */
export interface Unit {
  readonly ok: true;
  /** True for a unit that lasts while the call runs (a concurrency slot), ended by `end`. */
  readonly holds: boolean;
  /** Gives the unit back unused: another limit refused the call, so it never ran. */
  refund(): void;
  /** Ends a unit that holds when its call ends; safe to call twice; a no-op for other units. */
  end(): void;
}

/** A counter's answer: a unit, or a refusal. */
export type Take = Unit | { readonly ok: false; readonly refusal: Refusal };

/** One counter. */
export interface Counter {
  readonly key: string;
  /** A unit without I/O, a refusal already known, or null when only the KV can tell. */
  tryTake(nowMs: number): Take | null;
  /** A unit after asking the KV when needed. Never rejects: a failure is an `unavailable` refusal. */
  take(): Promise<Take>;
  /** The rule's number changed (same shape): units leased beyond a lower limit are not used. */
  setLimit(limit: number): void;
  /** The rule is gone or the limiter stops: no unit is taken any more; what is held goes back on `sweep`. */
  retire(): void;
  /** Periodic upkeep: renews holds, gives back what an idle or retired counter holds. */
  sweep(): Promise<void>;
  /** True when the counter is idle or retired and holds nothing: it may be forgotten. */
  done(): boolean;
}

/** What every counter of one limiter shares. */
export interface CounterContext {
  kv: KV;
  /** The clock windows and holds are reckoned in (epoch ms). */
  now: () => number;
  /** Told about every failed KV operation. */
  onError: (err: unknown) => void;
  /** This replica's id (concurrency holds are named after it). */
  instance: string;
  /** How long a concurrency hold lasts without renewal. */
  leaseTtlMs: number;
  /** True once the limiter stopped: nothing is written any more (holds left lapse on their own). */
  stopped: () => boolean;
}

/** A counter that has been idle this long (monotonic ms) gives back what it holds and is forgotten. */
export const IdleAfterMs = 30_000;
/** A refusal learnt from the KV is reused without asking again for at most this long (monotonic ms). */
export const RefusalCacheMs = 250;
/** After a failed KV operation, calls needing the KV are refused as unavailable this long without asking. */
export const UnavailableCacheMs = 250;

/** Serializes the KV operations of one counter, so that its own writes never conflict with each other. */
export class OpChain {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(op, op);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
