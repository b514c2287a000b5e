/**
 * A concurrent-calls counter of one scope on this replica. The replica holds a number of slots in the
 * shared KV value (see holder-math.ts) and admits calls within them without I/O; when its slots are all
 * in use it asks for more by compare-and-set, and it renews its hold with every heartbeat. Accuracy:
 * - one replica: exact (never more than the limit in flight, never a refusal below it);
 * - several: never more than the limit in flight while holds are renewed. A replica may refuse while
 *   another holds idle slots: each heartbeat (1 s) hands idle slots back, and once few slots are left and
 *   other replicas hold some, every call's end hands its slot back at once;
 * - a replica that dies: its slots come back `leaseTtlMs` + 1 s (clock skew grace) after its last renewal.
 * A replica that can no longer renew stops admitting on its slots when its hold lapses (fail closed);
 * calls it admitted before keep running and are reported in its hold once it can write again.
 */
import { planAcquire, planHold, Holds, liveOthers, unreadableHolds } from './holder-math';
import { compareAndSet, type Versioned } from './limits-bucket';
import { MaxLease } from './window-math';
import {
  IdleAfterMs,
  OpChain,
  UnavailableCacheMs,
  type Counter,
  type CounterContext,
  type Take,
  type Unit,
} from './counter';

/** Room left for clock skew before another replica's lapsed hold is taken back. */
export const HoldGraceMs = 1000;
/** A refusal learnt from the KV is reused without asking again for this long (on both clocks). */
const FullCacheMs = 20;

type Waiter = (take: Take) => void;

/** One slot of a call in flight, freed when the call ends (or is refunded). */
class SlotUnit implements Unit {
  readonly ok = true;
  readonly holds = true;
  private ended = false;
  constructor(private readonly counter: ConcurrencyCounter) {}
  refund(): void {
    this.end();
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.counter.callEnded();
  }
}

/** A concurrency counter; see the file header. */
export class ConcurrencyCounter implements Counter {
  private held = 0;
  private inFlight = 0;
  private until = 0;
  private grow = 1;
  private contended = false;
  private inKv = false;
  private retired = false;
  private fullUntil = 0;
  private fullUntilMono = 0;
  private unavailableUntilMono = 0;
  private lastUsedMono = performance.now();
  private trimQueued = false;
  private acquiring = false;
  private readonly queue: Waiter[] = [];
  private known: Versioned<Holds> | null = null;
  private readonly chain = new OpChain();
  private static readonly Full: Take = { ok: false, refusal: { kind: 'concurrent', unavailable: false } };
  private static readonly Unavailable: Take = {
    ok: false,
    refusal: { kind: 'concurrent', unavailable: true },
  };

  /**
   * `holder` names this counter's hold in the KV value: the replica's instance id and a number unique
   * within the limiter, so that a retired counter whose calls still run and its successor (the same rule
   * put back) each keep their own hold.
   */
  constructor(
    private readonly ctx: CounterContext,
    readonly key: string,
    private limit: number,
    private readonly holder: string,
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
    if (limit < this.limit) this.held = Math.min(this.held, this.inFlight);
    this.limit = limit;
  }

  retire(): void {
    this.retired = true;
    this.held = Math.min(this.held, this.inFlight);
  }

  async sweep(): Promise<void> {
    if (this.held > 0 || this.inFlight > 0 || this.inKv) await this.chain.run(() => this.hold());
  }

  done(): boolean {
    const idle = this.retired || performance.now() - this.lastUsedMono > IdleAfterMs;
    return idle && this.inFlight === 0 && !this.inKv && !this.acquiring && this.queue.length === 0;
  }

  private local(nowMs: number): Take | null {
    if (!this.retired && this.inFlight < this.held && nowMs < this.until) {
      this.inFlight++;
      return new SlotUnit(this);
    }
    const mono = performance.now();
    if (nowMs < this.fullUntil && mono < this.fullUntilMono) return ConcurrencyCounter.Full;
    if (mono < this.unavailableUntilMono) return ConcurrencyCounter.Unavailable;
    return null;
  }

  /** A call this replica admitted has ended: its slot is free here, and handed back if others need it. */
  callEnded(): void {
    this.inFlight--;
    this.lastUsedMono = performance.now();
    if ((this.contended || this.retired) && !this.trimQueued && !this.ctx.stopped()) {
      this.trimQueued = true;
      this.chain.run(() => this.hold()).catch((err: unknown) => this.ctx.onError(err));
    }
  }

  private pump(): void {
    if (this.acquiring) return;
    const nowMs = this.ctx.now();
    while (this.queue.length > 0) {
      const take = this.local(nowMs);
      if (take === null) break;
      this.queue.shift()?.(take);
    }
    if (this.queue.length === 0) return;
    if (this.retired) return this.settleAll(ConcurrencyCounter.Unavailable);
    this.acquiring = true;
    this.chain
      .run(() => this.acquire(this.queue.length))
      .then(
        (granted) => {
          this.acquiring = false;
          if (granted === 0) {
            this.fullUntil = this.ctx.now() + FullCacheMs;
            this.fullUntilMono = performance.now() + FullCacheMs;
            return this.settleAll(ConcurrencyCounter.Full);
          }
          this.pump();
        },
        (err: unknown) => {
          this.acquiring = false;
          this.ctx.onError(err);
          this.unavailableUntilMono = performance.now() + UnavailableCacheMs;
          this.settleAll(ConcurrencyCounter.Unavailable);
        },
      );
  }

  private settleAll(take: Take): void {
    for (const waiter of this.queue.splice(0)) waiter(take);
  }

  /** Asks for `want` more slots than are in flight (or more, see leaseSize); resolves with the grant. */
  private async acquire(want: number): Promise<number> {
    const ttlMs = this.ctx.leaseTtlMs;
    const { result, stored } = await compareAndSet(this.ctx.kv, this.key, Holds, this.known, (current) => {
      const nowMs = this.ctx.now();
      const limit = this.limit;
      if (current.unreadable) {
        const write = { v: 1 as const, holds: unreadableHolds(limit, nowMs, ttlMs) };
        return { write, result: { nowMs, limit, n: 0, granted: 0, free: 0, others: true } };
      }
      const req = { me: this.holder, nowMs, ttlMs, graceMs: HoldGraceMs, limit, want, grow: this.grow };
      const plan = planAcquire(current.value?.holds ?? {}, { ...req, inFlight: this.inFlight });
      const write = plan.granted > 0 ? { v: 1 as const, holds: plan.holds } : null;
      return { write, result: { nowMs, limit, n: this.inFlight + plan.granted, ...plan } };
    });
    this.known = stored;
    if (result.granted === 0) return 0;
    // A limit lowered while the grant was on its way: nothing beyond the calls in flight is used.
    this.held = this.limit < result.limit ? Math.min(result.n, this.inFlight) : result.n;
    this.until = result.nowMs + ttlMs;
    this.inKv = true;
    this.grow = Math.min(MaxLease, this.grow * 2);
    this.contended = result.others && result.free <= Math.floor(this.limit / 4);
    return result.granted;
  }

  /** Sets this replica's hold to the calls in flight (handing idle slots back) and renews it. */
  private async hold(): Promise<void> {
    this.trimQueued = false;
    const spare = this.held - this.inFlight;
    this.held = Math.min(this.held, this.inFlight);
    const ttlMs = this.ctx.leaseTtlMs;
    const { result, stored } = await compareAndSet(this.ctx.kv, this.key, Holds, this.known, (current) => {
      const nowMs = this.ctx.now();
      const req = { me: this.holder, nowMs, ttlMs, graceMs: HoldGraceMs };
      const holds =
        current.value?.holds ?? (current.unreadable ? unreadableHolds(this.limit, nowMs, ttlMs) : {});
      const n = this.held;
      const absent = holds[req.me] === undefined;
      const others = liveOthers(holds, req).total;
      const write =
        n === 0 && absent && !current.unreadable ? null : { v: 1 as const, holds: planHold(holds, req, n) };
      return { write, result: { nowMs, n, others } };
    });
    this.known = stored;
    this.inKv = result.n > 0;
    this.until = result.n > 0 ? result.nowMs + ttlMs : 0;
    this.contended = result.others > 0 && this.limit - result.others - result.n <= Math.floor(this.limit / 4);
    if (spare > 0) this.grow = Math.max(1, this.grow >> 1);
  }
}
