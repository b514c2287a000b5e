/**
 * The policy engine: decisions in process, in Cedar. It holds the compiled sets in force (each with the KV
 * revision it came from) and judges a principal of tenant T by the union of the sets `platform` and `T`
 * (forbid wins, default deny), so one tenant's policies can never reach another tenant's requests. Each
 * union is preparsed in Cedar's WebAssembly once, when first needed, and dropped when a set changes; each
 * decision is cached (see decision-cache.ts), so that a repeated decision costs a map lookup. Fail closed:
 * a policy that errs while evaluated, a request Cedar refuses, or arguments too complex to judge all deny.
 */
import type { AuthorizationAnswer } from '@cedar-policy/cedar-wasm/nodejs';
import type { DecisionReply, DecisionRequest, PolicySetName } from '@meshgate/contracts';
import { callCedar, cedarGeneration } from './cedar-runtime';
import { actionAppliesTo, type ContextAttribute } from './cedar-schema';
import type { CompiledPolicySet } from './compile';
import { DecisionCache, decisionKey, type DecisionCacheStats } from './decision-cache';
import { cedarRequest } from './entities';

export interface PolicyEngineOptions {
  /** Most decisions cached; 10 000 by default, 0 disables the cache. */
  cacheSize?: number;
  /** Told when policies err while evaluated (the decision is then a deny). */
  onEvaluationError?: (message: string, policies: readonly string[]) => void;
}

/** A set in force, as `sets()` lists it. */
export interface InstalledPolicySet {
  name: PolicySetName;
  revision: number;
  policies: number;
}

/** Counters of an engine. */
export interface PolicyEngineStats {
  decisions: number;
  cache: DecisionCacheStats;
}

/** The union judging one tenant's principals, preparsed under `id` (null: Cedar refused it). */
interface Union {
  id: string | null;
  /** The Cedar module generation the union was preparsed in. */
  generation: number;
  revision: number;
  revisions: string;
  context: ReadonlySet<ContextAttribute>;
}

let engineCount = 0;

/** Decides DecisionRequests against the installed policy sets; see the module comment. */
export class PolicyEngine {
  private readonly installed = new Map<PolicySetName, { set: CompiledPolicySet; revision: number }>();
  private readonly unions = new Map<string, Union>();
  private readonly cache: DecisionCache<DecisionReply>;
  private readonly prefix = `meshgate-${++engineCount}`;
  private decisions = 0;

  constructor(private readonly opts: PolicyEngineOptions = {}) {
    this.cache = new DecisionCache(opts.cacheSize ?? 10_000);
  }

  /** Puts `set` in force (replacing a set of the same name), learnt at KV `revision`. */
  install(set: CompiledPolicySet, revision: number): void {
    if (!Number.isSafeInteger(revision) || revision < 0)
      throw new RangeError(`revision must be a whole number >= 0, not ${revision}`);
    this.installed.set(set.name, { set, revision });
    this.invalidate();
  }

  /** Takes the set `name` out of force; nothing happens when there is none. */
  remove(name: PolicySetName): void {
    if (this.installed.delete(name)) this.invalidate();
  }

  /** The sets in force, by name. */
  sets(): InstalledPolicySet[] {
    return [...this.installed.values()]
      .map(({ set, revision }) => ({ name: set.name, revision, policies: set.policies.size }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** True when the sets in force for `tenant` read the context attribute `name`. */
  readsContext(tenant: string, name: ContextAttribute): boolean {
    return this.unionFor(tenant).context.has(name);
  }

  /** Decides one request; synchronous, never throws for a well-typed request. */
  decide(req: DecisionRequest): DecisionReply {
    this.decisions++;
    const union = this.unionFor(req.principal.tenant);
    if (!actionAppliesTo(req.action, req.resource.kind))
      return deny(`${req.action} does not apply to a ${req.resource.kind}`, [], union.revision);
    const key = decisionKey(req, union.revisions, union.context);
    const cached = key === null ? undefined : this.cache.get(key);
    if (cached) return cached;
    const reply = Object.freeze(this.evaluate(req, union));
    if (key !== null) this.cache.set(key, reply);
    return reply;
  }

  /** Decides several requests (list filtering), in order. */
  decideMany(reqs: readonly DecisionRequest[]): DecisionReply[] {
    return reqs.map((req) => this.decide(req));
  }

  stats(): PolicyEngineStats {
    return { decisions: this.decisions, cache: this.cache.stats() };
  }

  private evaluate(req: DecisionRequest, union: Union): DecisionReply {
    if (union.id === null) return deny('policy evaluation failed', [], union.revision);
    const request = cedarRequest(req, union.context);
    if (request === null) return deny('arguments too complex for policy evaluation', [], union.revision);
    let answer: AuthorizationAnswer;
    try {
      const id = union.id;
      answer = callCedar((cedar) => cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: id }));
    } catch (err) {
      this.opts.onEvaluationError?.(String(err), []);
      return deny('policy evaluation failed', [], union.revision);
    }
    if (answer.type === 'failure') {
      this.opts.onEvaluationError?.(answer.errors.map((e) => e.message).join('; '), []);
      return deny('policy evaluation failed', [], union.revision);
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      const failed = diagnostics.errors.map((e) => e.policyId);
      this.opts.onEvaluationError?.(diagnostics.errors.map((e) => e.error.message).join('; '), failed);
      return deny('policy evaluation failed', failed, union.revision);
    }
    if (decision === 'allow')
      return {
        v: 1,
        effect: 'allow',
        policies: diagnostics.reason,
        reason: 'permitted by policy',
        revision: union.revision,
      };
    if (diagnostics.reason.length > 0) return deny('denied by policy', diagnostics.reason, union.revision);
    return deny(`no policy permits ${req.action}`, [], union.revision);
  }

  /** The union for `tenant`: platform and the tenant's own set; tenants without one share the platform's. */
  private unionFor(tenant: string): Union {
    const own = tenant === 'platform' ? undefined : this.installed.get(tenant);
    const key = own ? `tenant:${tenant}` : 'platform';
    const known = this.unions.get(key);
    if (known && known.generation === cedarGeneration()) return known;
    const platform = this.installed.get('platform');
    const policies: Record<string, string> = {};
    const context = new Set<ContextAttribute>();
    for (const entry of [platform, own]) {
      if (!entry) continue;
      for (const [id, text] of entry.set.policies) policies[`${entry.set.name}/${id}`] = text;
      for (const name of entry.set.context) context.add(name);
    }
    const id = `${this.prefix}:${key}`;
    let prepared = false;
    try {
      prepared =
        callCedar((cedar) => cedar.preparsePolicySet(id, { staticPolicies: policies })).type === 'success';
    } catch (err) {
      this.opts.onEvaluationError?.(String(err), []);
    }
    const union: Union = {
      id: prepared ? id : null,
      generation: cedarGeneration(),
      revision: Math.max(platform?.revision ?? 0, own?.revision ?? 0),
      revisions: `${platform?.revision ?? '-'}:${own?.revision ?? '-'}`,
      context,
    };
    this.unions.set(key, union);
    return union;
  }

  private invalidate(): void {
    // Preparsed sets live in the WebAssembly module until overwritten: empty the stale ones.
    for (const { id, generation } of this.unions.values())
      if (id !== null && generation === cedarGeneration()) {
        try {
          callCedar((cedar) => cedar.preparsePolicySet(id, { staticPolicies: {} }));
        } catch {
          // Cedar was reloaded, and the stale set with it.
        }
      }
    this.unions.clear();
    this.cache.clear();
  }
}

function deny(reason: string, policies: string[], revision: number): DecisionReply {
  return { v: 1, effect: 'deny', policies, reason, revision };
}
