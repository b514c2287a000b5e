/**
 * The limiter of one replica: rate limits, concurrency limits and daily quotas declared in configuration,
 * enforced in process and shared with every other replica through the KV bucket `mg_limits`. A call that
 * meets no rule is admitted at once (no I/O); one that does spends units this replica leased beforehand,
 * and only asks the KV when they run out. When the KV cannot be reached the call is refused as
 * `unavailable` (fail closed). A heartbeat renews concurrency holds and hands back what idle counters hold.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { z } from 'zod';
import { LimitsConfig, type LimitRule } from '@meshgate/contracts';
import { Admitted, refusedBy, type Admission } from './admission';
import { ConcurrencyCounter } from './concurrency-counter';
import type { Counter, CounterContext, Take, Unit } from './counter';
import { LimitCall, type LimitKind } from './limit-keys';
import { openLimitsBucket } from './limits-bucket';
import { compileRules, RuleIndex, type LimitTrack } from './rule-set';
import { TokenCounter } from './token-counter';
import { DailyWindow, requestsWindow } from './window-math';

/** How a limiter is started. */
export interface LimiterOptions {
  /** Bucket name; `mg_limits` unless a test isolates itself. */
  bucket?: string;
  /** This replica's unique id (its concurrency holds are recorded under it). */
  instance: string;
  /** The clock windows, days and holds are reckoned in (epoch ms); `Date.now` by default. */
  now?: () => number;
  /** Told about every failed KV operation (the calls concerned are refused as unavailable). */
  onError?(err: unknown): void;
  /** Deadline of one KV operation; 2000 ms by default. */
  timeoutMs?: number;
  /** How long a concurrency hold lasts without renewal (renewed every fifth of it); 5000 ms by default. */
  leaseTtlMs?: number;
  /** max_bytes of the bucket when this limiter creates it; unlimited by default. */
  maxBytes?: number;
}

const Settings = z.object({
  bucket: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  instance: z.string().min(1).max(128),
  timeoutMs: z.number().int().min(100).max(60_000).default(2000),
  leaseTtlMs: z.number().int().min(1000).max(600_000).default(5000),
  maxBytes: z.number().int().min(1024).optional(),
});

/** Limits configuration or a call that breaks its schema. */
export class InvalidLimitsInput extends Error {
  constructor(what: string, error: z.ZodError) {
    const issues = error.issues.slice(0, 5).map((i) => `${i.path.join('.') || what}: ${i.message}`);
    super(`invalid ${what}: ${issues.join('; ')}`);
    this.name = 'InvalidLimitsInput';
  }
}

const AdmittedNow = Promise.resolve(Admitted);
const SweepBatch = 32;

/**
 * A concurrency limit shared by every replica that is not a configured rule (an upstream server's
 * `maxConcurrent`): the same holds as a rule's concurrent counter, asked for and released by its user.
 */
export interface SharedSlots {
  /** A slot at once (the function that frees it), a refusal already known, or null: ask with `acquire`. */
  tryAcquire(): SlotAnswer | null;
  /** A slot after asking the KV when needed; never rejects (`unavailable` when the KV cannot tell). */
  acquire(): Promise<SlotAnswer>;
  /** A changed limit applies at once; slots held beyond a lower one are not used again. */
  setLimit(limit: number): void;
}

/** A free slot's release function (idempotent), `full` when every slot is in use, or `unavailable`. */
export type SlotAnswer = (() => void) | 'full' | 'unavailable';

/** Names of shared slot counters: KV key tokens. */
const SlotName = /^[A-Za-z0-9_-]{1,128}$/;

/** The limiter of one replica; start it with `Limiter.start`. */
export class Limiter {
  private index = new RuleIndex([]);
  private tracks = new Map<string, LimitTrack>();
  /** Shared slot counters by name, kept (and renewed) until the limiter stops. */
  private readonly slots = new Map<string, ConcurrencyCounter>();
  private readonly retiring = new Set<Counter>();
  private readonly ctx: CounterContext;
  private readonly timer: NodeJS.Timeout;
  private sweeping: Promise<void> | undefined;
  private stopped = false;
  private holders = 0;

  private constructor(shared: Omit<CounterContext, 'stopped'>) {
    this.ctx = { ...shared, stopped: () => this.stopped };
    this.timer = setInterval(() => void this.sweep(), shared.leaseTtlMs / 5);
    this.timer.unref();
  }

  /** Binds to the limits bucket (created when missing, see limits-bucket.ts) with no rule in force. */
  static async start(nc: NatsConnection, opts: LimiterOptions): Promise<Limiter> {
    const parsed = Settings.safeParse(opts);
    if (!parsed.success) throw new InvalidLimitsInput('limiter options', parsed.error);
    const { bucket, instance, timeoutMs, leaseTtlMs, maxBytes } = parsed.data;
    const kv: KV = await openLimitsBucket(nc, {
      timeoutMs,
      ...(bucket !== undefined ? { bucket } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
    const onError = opts.onError?.bind(opts) ?? (() => {});
    return new Limiter({ kv, instance, leaseTtlMs, now: opts.now ?? Date.now, onError });
  }

  /**
   * Puts `config` in force, replacing the rules. Counters of rules whose shape (match, per, window) is
   * unchanged keep counting (a changed number applies to them at once); those of other rules are retired
   * and hand back what they hold. Throws InvalidLimitsInput, keeping the rules in force, on a bad config.
   */
  configure(config: z.input<typeof LimitsConfig>): void {
    const parsed = LimitsConfig.safeParse(config);
    if (!parsed.success) throw new InvalidLimitsInput('limits configuration', parsed.error);
    const compiled = compileRules(parsed.data.rules, this.tracks, (kind, rule, key, limit) =>
      this.makeCounter(kind, rule, key, limit),
    );
    for (const track of compiled.dropped) this.retire(track);
    this.index = compiled.index;
    this.tracks = compiled.tracks;
  }

  /** True while any limit rule is in force (without one, every call is admitted: `admit` need not be asked). */
  get hasRules(): boolean {
    return !this.index.empty;
  }

  /** Admits or refuses one call; resolves at once, without I/O, whenever no KV round trip is needed. */
  admit(call: LimitCall): Promise<Admission> {
    if (this.index.empty) return AdmittedNow;
    const valid = LimitCall.safeParse(call);
    if (!valid.success) return Promise.reject(new InvalidLimitsInput('call', valid.error));
    const rules = this.index.matching(call);
    const first = rules[0];
    if (first === undefined) return AdmittedNow;
    if (this.stopped) {
      const kind = first.tracks[0]?.kind ?? 'requests';
      return Promise.resolve(refusedBy(first.rule, { kind, unavailable: true }));
    }
    const nowMs = this.ctx.now();
    const hits: Hit[] = [];
    let ready = true;
    for (const { rule, tracks } of rules)
      for (const track of tracks) {
        const counter = track.counterFor(call);
        const take = counter.tryTake(nowMs);
        if (take !== null && !take.ok && !take.refusal.unavailable) {
          for (const hit of hits) if (hit.take?.ok) hit.take.refund();
          return Promise.resolve(refusedBy(rule, take.refusal));
        }
        ready &&= take !== null;
        hits.push({ rule, counter, take });
      }
    if (ready) return Promise.resolve(conclude(hits, hits.map(answerOf)));
    const pending = hits.map((hit) => (hit.take !== null ? Promise.resolve(hit.take) : hit.counter.take()));
    return Promise.all(pending).then((takes) => conclude(hits, takes));
  }

  /**
   * The shared concurrency counter `name` (KV key `u.<name>`) with `limit` slots across every replica: no
   * more than `limit` slots are held at once by all replicas together while they renew their holds. The
   * same counter is returned for the same name, with `limit` applied. Throws on a name that is not a KV
   * token or a limit that is not a positive integer.
   */
  sharedSlots(name: string, limit: number): SharedSlots {
    if (!SlotName.test(name)) throw new Error(`invalid shared slot name: ${JSON.stringify(name)}`);
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`invalid shared slot limit: ${limit}`);
    let counter = this.slots.get(name);
    if (counter) counter.setLimit(limit);
    else {
      counter = new ConcurrencyCounter(
        this.ctx,
        `u.${name}`,
        limit,
        `${this.ctx.instance}#${++this.holders}`,
      );
      this.slots.set(name, counter);
    }
    return slotsOf(counter, this.ctx.now);
  }

  /** Hands back what this replica holds (leased units, concurrency holds) and stops. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.sweeping;
    for (const track of this.tracks.values()) this.retire(track);
    this.tracks = new Map();
    for (const counter of this.slots.values()) {
      counter.retire();
      this.retiring.add(counter);
    }
    this.slots.clear();
    await this.sweep();
  }

  private makeCounter(kind: LimitKind, rule: LimitRule, key: string, limit: number): Counter {
    if (kind === 'concurrent')
      return new ConcurrencyCounter(this.ctx, key, limit, `${this.ctx.instance}#${++this.holders}`);
    const spec = kind === 'requests' ? requestsWindow(rule.requests?.windowS ?? 1) : DailyWindow;
    return new TokenCounter(this.ctx, key, kind, spec, limit);
  }

  private retire(track: LimitTrack): void {
    for (const counter of track.counters.values()) {
      counter.retire();
      this.retiring.add(counter);
    }
    track.counters.clear();
  }

  /** Renews, hands back and forgets, a batch of counters at a time; never two sweeps at once. */
  private sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      const all: { counter: Counter; forget: () => void }[] = [...this.retiring].map((counter) => ({
        counter,
        forget: () => this.retiring.delete(counter),
      }));
      for (const counter of this.slots.values()) all.push({ counter, forget: () => {} });
      for (const track of this.tracks.values())
        for (const [scope, counter] of track.counters)
          all.push({
            counter,
            forget: () => track.counters.get(scope) === counter && track.counters.delete(scope),
          });
      for (let i = 0; i < all.length; i += SweepBatch)
        await Promise.all(
          all.slice(i, i + SweepBatch).map(({ counter, forget }) =>
            counter.sweep().then(
              () => counter.done() && forget(),
              (err: unknown) => this.ctx.onError(err),
            ),
          ),
        );
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }
}

/** The SharedSlots face of a concurrency counter. */
function slotsOf(counter: ConcurrencyCounter, now: () => number): SharedSlots {
  return {
    tryAcquire: () => {
      const take = counter.tryTake(now());
      return take === null ? null : slotAnswer(take);
    },
    acquire: () => counter.take().then(slotAnswer),
    setLimit: (limit) => counter.setLimit(limit),
  };
}

function slotAnswer(take: Take): SlotAnswer {
  if (take.ok) return () => take.end();
  return take.refusal.unavailable ? 'unavailable' : 'full';
}

/** One counter a call meets, and its answer without I/O (null: it must ask the KV). */
interface Hit {
  rule: LimitRule;
  counter: Counter;
  take: Take | null;
}

/** The answer of a counter that answered without I/O. */
function answerOf(hit: Hit): Take {
  return hit.take as Take;
}

/** The admission of a call whose every counter answered: the first refusal, or the units to release. */
function conclude(hits: readonly { rule: LimitRule }[], takes: readonly Take[]): Admission {
  const at = refusalIndex(takes);
  const refused = takes[at];
  const hit = hits[at];
  if (refused && !refused.ok && hit) {
    for (const take of takes) if (take.ok) take.refund();
    return refusedBy(hit.rule, refused.refusal);
  }
  return takes.some((take) => take.ok && take.holds) ? new HeldUnits(takes as readonly Unit[]) : Admitted;
}

/** The refusal to report: the first definite one, else the first `unavailable` one; -1 when none. */
function refusalIndex(takes: readonly Take[]): number {
  const definite = takes.findIndex((take) => !take.ok && !take.refusal.unavailable);
  return definite >= 0 ? definite : takes.findIndex((take) => !take.ok);
}

/** An admitted call holding concurrency slots until it is released. */
class HeldUnits {
  readonly ok = true;
  /** Ends the call's slots; bound, so it may be handed on as a callback. Idempotent. */
  readonly release: () => void;
  private released = false;

  constructor(private readonly units: readonly Unit[]) {
    this.release = this.releaseAll.bind(this);
  }

  private releaseAll(): void {
    if (this.released) return;
    this.released = true;
    for (const unit of this.units) unit.end();
  }
}
