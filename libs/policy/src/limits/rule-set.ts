/**
 * The rules in force, compiled for the hot path: each rule's limits as tracks (one per kind of limit, each
 * with its counters by scope), and an index by tenant so that a call is matched only against the rules
 * that can apply to it. Tracks are identified by their KV key prefix (kind, rule id, shape): a new
 * configuration takes over the tracks of rules whose shape did not change, counters and all.
 */
import type { LimitRule } from '@meshgate/contracts';
import type { Counter } from './counter';
import {
  counterKey,
  kindsOf,
  limitOf,
  ruleMatches,
  scopeOf,
  trackPrefix,
  type LimitCall,
  type LimitKind,
} from './limit-keys';

/** Makes the counter of one scope of a track. */
export type CounterFactory = (kind: LimitKind, rule: LimitRule, key: string, limit: number) => Counter;

/** One kind of limit of one rule, with its counters by scope. */
export class LimitTrack {
  readonly counters = new Map<string, Counter>();

  constructor(
    public rule: LimitRule,
    readonly kind: LimitKind,
    readonly prefix: string,
    public limit: number,
    private readonly make: CounterFactory,
  ) {}

  /** The counter `call` falls in, made on first use. */
  counterFor(call: LimitCall): Counter {
    const scope = scopeOf(this.rule.per, call);
    let counter = this.counters.get(scope);
    if (counter === undefined) {
      counter = this.make(this.kind, this.rule, counterKey(this.prefix, scope), this.limit);
      this.counters.set(scope, counter);
    }
    return counter;
  }

  /** Takes on `rule`, a new version of the same shape: a changed number reaches every counter. */
  update(rule: LimitRule, limit: number): void {
    this.rule = rule;
    if (limit === this.limit) return;
    this.limit = limit;
    for (const counter of this.counters.values()) counter.setLimit(limit);
  }
}

/** A rule and its tracks, in configuration order. */
export interface CompiledRule {
  order: number;
  rule: LimitRule;
  tracks: LimitTrack[];
}

/** The compiled rules, and the tracks of the previous rules that no rule takes over. */
export interface Compiled {
  index: RuleIndex;
  tracks: Map<string, LimitTrack>;
  dropped: LimitTrack[];
}

/** Compiles `rules`, taking over the tracks of `previous` whose prefix is unchanged. */
export function compileRules(
  rules: readonly LimitRule[],
  previous: ReadonlyMap<string, LimitTrack>,
  make: CounterFactory,
): Compiled {
  const tracks = new Map<string, LimitTrack>();
  const compiled = rules.map((rule, order): CompiledRule => {
    const ruleTracks = kindsOf(rule).map((kind) => {
      const prefix = trackPrefix(kind, rule);
      const limit = limitOf(kind, rule) ?? 0;
      const track = previous.get(prefix) ?? new LimitTrack(rule, kind, prefix, limit, make);
      track.update(rule, limit);
      tracks.set(prefix, track);
      return track;
    });
    return { order, rule, tracks: ruleTracks };
  });
  const dropped = [...previous].filter(([prefix]) => !tracks.has(prefix)).map(([, track]) => track);
  return { index: new RuleIndex(compiled), tracks, dropped };
}

/** Finds the rules a call meets. */
export class RuleIndex {
  private readonly byTenant = new Map<string, CompiledRule[]>();
  private readonly anyTenant: CompiledRule[] = [];

  constructor(readonly rules: readonly CompiledRule[]) {
    for (const compiled of rules) {
      const tenant = compiled.rule.match.tenant;
      if (tenant === undefined) this.anyTenant.push(compiled);
      else this.byTenant.set(tenant, [...(this.byTenant.get(tenant) ?? []), compiled]);
    }
  }

  /** True when no rule is in force. */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The rules `call` meets, in configuration order. */
  matching(call: LimitCall): CompiledRule[] {
    const own = this.byTenant.get(call.tenant);
    const out: CompiledRule[] = [];
    for (const compiled of this.anyTenant) if (ruleMatches(compiled.rule.match, call)) out.push(compiled);
    if (own === undefined) return out;
    for (const compiled of own) if (ruleMatches(compiled.rule.match, call)) out.push(compiled);
    return out.length > 1 && this.anyTenant.length > 0 ? out.sort((a, b) => a.order - b.order) : out;
  }
}
