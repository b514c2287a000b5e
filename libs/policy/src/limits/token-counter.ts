/**
 * A requests-per-window or daily-quota counter of one scope on this replica. Calls spend tokens this
 * replica leased from the shared count (no I/O). A block running low is topped up in the background; when
 * none are left, callers queue and one lease (a compare-and-set on the KV key) serves them all. Leased
 * tokens are good only within the slot they were leased in (a tenth of the window, or the UTC day), so a
 * call is counted in the slot it ran in; a lease in a later slot hands back what the last one left.
 * Tokens left when a rule's number drops, when the counter idles (30 s) or when the limiter stops are
 * handed back too, so only a crash strands tokens: per scope and replica, at most one lease and a quarter
 * of the one before (a lease is at most 1024, 1/8 of what remained and 1/128 of the limit).
 */
import { compareAndSet, type Versioned } from './limits-bucket';
import {
  IdleAfterMs,
  OpChain,
  RefusalCacheMs,
  UnavailableCacheMs,
  type Counter,
  type CounterContext,
  type Take,
  type Unit,
} from './counter';
import type { LimitKind } from './limit-keys';
import {
  addUnits,
  freesAt,
  leaseSize,
  liveSlots,
  MaxLease,
  slotAt,
  SlotCounts,
  unitsIn,
} from './window-math';
import type { SlotCount, WindowSpec } from './window-math';

type Waiter = (take: Take) => void;

/** Blocks at least this large are topped up in the background when a quarter is left. */
const PrefetchFrom = 16;

/** One token: spent for good, unless refunded within the slot it was leased in. */
class TokenUnit implements Unit {
  readonly ok = true;
  readonly holds = false;
  constructor(
    private readonly counter: TokenCounter,
    private readonly slot: number,
  ) {}
  refund(): void {
    this.counter.putBack(this.slot);
  }
  end(): void {}
}

/** A windowed counter (requests or daily quota); see the file header. */
export class TokenCounter implements Counter {
  private slot = -1;
  private tokens = 0;
  /** The tokens held may not be spent (lower limit, retired): they go back with the next write. */
  private frozen = false;
  private retired = false;
  private grow = 1;
  private lowWater = -1;
  private refusedUntil = 0;
  private refusedUntilMono = 0;
  private unavailableUntilMono = 0;
  private retryAt = 0;
  private lastUsedMono = performance.now();
  private readonly queue: Waiter[] = [];
  private leasing = false;
  private known: Versioned<SlotCounts> | null = null;
  private readonly chain = new OpChain();

  constructor(
    private readonly ctx: CounterContext,
    readonly key: string,
    private readonly kind: Extract<LimitKind, 'requests' | 'dailyQuota'>,
    private readonly spec: WindowSpec,
    private limit: number,
  ) {}

  tryTake(nowMs: number): Take | null {
    this.lastUsedMono = performance.now();
    return this.queue.length > 0 ? null : this.local(nowMs);
  }

  take(): Promise<Take> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.pump();
    });
  }

  setLimit(limit: number): void {
    if (limit < this.limit) this.frozen = true;
    else this.refusedUntil = 0;
    this.limit = limit;
  }

  retire(): void {
    this.retired = true;
    this.frozen = true;
  }

  async sweep(): Promise<void> {
    if (!this.idle() || this.queue.length > 0 || (this.tokens === 0 && !this.leasing)) return;
    await this.chain.run(() => this.giveBack());
  }

  done(): boolean {
    return this.idle() && this.tokens === 0 && !this.leasing && this.queue.length === 0;
  }

  /** Takes back a refunded token, if it is still good. */
  putBack(slot: number): void {
    if (slot === this.slot && !this.frozen) this.tokens++;
  }

  private idle(): boolean {
    return this.retired || performance.now() - this.lastUsedMono > IdleAfterMs;
  }

  private local(nowMs: number): Take | null {
    if (this.tokens > 0 && !this.frozen && slotAt(this.spec, nowMs) === this.slot) {
      this.tokens--;
      if (this.tokens <= this.lowWater && !this.leasing) this.lease(0);
      return new TokenUnit(this, this.slot);
    }
    const mono = performance.now();
    if (nowMs < this.refusedUntil && mono < this.refusedUntilMono) return this.refused(nowMs);
    if (mono < this.unavailableUntilMono) return this.unavailable();
    return null;
  }

  private refused(nowMs: number): Take {
    const retryAfterMs = Math.ceil(Math.max(0, this.retryAt - nowMs));
    return { ok: false, refusal: { kind: this.kind, unavailable: false, retryAfterMs } };
  }

  private unavailable(): Take {
    return { ok: false, refusal: { kind: this.kind, unavailable: true } };
  }

  /** Serves queued callers from the tokens held, and leases more while some still wait. */
  private pump(): void {
    if (this.leasing) return;
    const nowMs = this.ctx.now();
    while (this.queue.length > 0) {
      const take = this.local(nowMs);
      if (take === null) break;
      this.queue.shift()?.(take);
    }
    if (this.queue.length === 0) return;
    if (this.retired) return this.settleAll(this.unavailable());
    this.lease(this.queue.length);
  }

  /** Runs one lease for `want` waiting callers (0: a top-up), then serves or refuses who waits. */
  private lease(want: number): void {
    this.leasing = true;
    this.chain
      .run(() => this.leaseOnce(want))
      .then(
        (exhausted) => {
          this.leasing = false;
          if (!exhausted) return this.pump();
          const nowMs = this.ctx.now();
          while (this.queue.length > 0) this.queue.shift()?.(this.local(nowMs) ?? this.refused(nowMs));
        },
        (err: unknown) => {
          this.leasing = false;
          this.ctx.onError(err);
          this.unavailableUntilMono = performance.now() + UnavailableCacheMs;
          this.settleAll(this.unavailable());
        },
      );
  }

  private settleAll(take: Take): void {
    for (const waiter of this.queue.splice(0)) waiter(take);
  }

  /**
   * Leases tokens in the current slot: `want` or more (see leaseSize). Tokens still held for another slot,
   * or frozen, go back in the same write; tokens of the current slot stay and the grant adds to them.
   * Resolves true when the count is exhausted and fewer than `want` were granted.
   */
  private async leaseOnce(want: number): Promise<boolean> {
    const { result, stored } = await compareAndSet(
      this.ctx.kv,
      this.key,
      SlotCounts,
      this.known,
      (current) => {
        const nowMs = this.ctx.now();
        const slot = slotAt(this.spec, nowMs);
        const leftover = this.frozen || slot !== this.slot ? this.tokens : 0;
        const unreadable =
          current.unreadable || (current.value !== null && current.value.slotMs !== this.spec.slotMs);
        let slots: SlotCount[] = unreadable ? [[slot, this.limit]] : (current.value?.slots ?? []);
        slots = liveSlots(addUnits(slots, this.slot, -leftover), this.spec, slot);
        const granted = leaseSize(this.limit - unitsIn(slots), want, this.grow, this.limit);
        const next = addUnits(slots, slot, granted);
        const write = granted > 0 || leftover > 0 || unreadable;
        return {
          write: write ? { v: 1 as const, slotMs: this.spec.slotMs, slots: next } : null,
          result: { nowMs, slot, granted, leftover, next, unreadable, limit: this.limit },
        };
      },
    );
    this.known = stored;
    if (result.unreadable)
      this.ctx.onError(new Error(`limit state ${this.key} was unreadable; reset as full`));
    const { slot, granted, leftover } = result;
    this.tokens = leftover > 0 || slot !== this.slot ? granted : this.tokens + granted;
    this.grow = leftover > 0 ? Math.max(1, this.grow >> 1) : Math.min(MaxLease, this.grow * 2);
    this.lowWater = granted >= PrefetchFrom ? Math.floor(granted / 4) : -1;
    this.slot = slot;
    this.frozen = this.retired || this.limit < result.limit;
    if (this.limit - unitsIn(result.next) > 0) {
      this.refusedUntil = 0;
      return false;
    }
    this.lowWater = -1;
    this.retryAt = freesAt(result.next, this.spec, this.limit, result.nowMs);
    this.refusedUntil = Math.min(this.retryAt, (slot + 1) * this.spec.slotMs);
    this.refusedUntilMono = performance.now() + RefusalCacheMs;
    return granted < want;
  }

  /** Hands the tokens still held back to the shared count; none is spent here until the next lease. */
  private async giveBack(): Promise<void> {
    this.frozen = true;
    const leftover = this.tokens;
    if (leftover === 0) return;
    const { stored } = await compareAndSet(this.ctx.kv, this.key, SlotCounts, this.known, (current) => ({
      write:
        current.value === null
          ? null
          : { ...current.value, slots: addUnits(current.value.slots, this.slot, -leftover) },
      result: null,
    }));
    this.known = stored;
    this.tokens = 0;
  }
}
