/**
 * The router's authorization (ADR 004): decisions in process from the policy sets the policy service keeps
 * in KV and pushes to every replica (libs/policy PolicySync), the limits declared beside them (key
 * `limits` of the same bucket) enforced by a limiter shared with every other replica through KV, and the
 * policy service's heartbeat. While no heartbeat is fresh, or the policy watch has failed, every decision
 * is refused: the router fails closed. `MESHGATE_POLICY=off` lets everything through, with a warning.
 */
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import { jetstream, StorageType } from '@nats-io/jetstream';
import type { QueuedIterator } from '@nats-io/nats-core';
import type { Bus } from '@meshgate/bus';
import type { Logger } from '@meshgate/config';
import {
  LimitsConfig,
  LimitsKey,
  type PolicyAnnotations,
  type PolicyContext,
  type DecisionReply,
  type PolicyAction,
  type PolicyResource,
  type SessionInfo,
} from '@meshgate/contracts';
import { PolicyEngine, PolicyFreshness, PolicySync, type Admission, type Limiter } from '@meshgate/policy';
import type { RouterPolicyConfig } from './config';

/** What a decision sees of the call besides its principal, action and resource. */
export interface DecisionFacts {
  arguments?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  clientAddress?: string;
}

/** Authorization of one router replica. */
export interface Authorizer {
  readonly enforcing: boolean;
  /** Why no decision can be trusted now (every call is refused), or null. */
  unavailable(): string | null;
  decide(
    session: SessionInfo,
    action: PolicyAction,
    resource: PolicyResource,
    facts: DecisionFacts,
  ): DecisionReply;
  /** True when the policies in force for `session`'s tenant test tool annotations (they must be looked up). */
  readsAnnotations(session: SessionInfo): boolean;
  /**
   * The limits' admission of one call of `session` to `server` (and `tool`): at once when no limit rule is
   * in force, else once the limiter answers.
   */
  admit(session: SessionInfo, server: string, tool: string | undefined): Admission | Promise<Admission>;
  /** Counters for `$SRV.STATS`. */
  status(): Record<string, unknown>;
  stop(): Promise<void>;
}

const Allowed: Admission = { ok: true, release: () => {} };

/** How long a starting replica waits for the policy service's first heartbeat. */
const HeartbeatWaitMs = 2_500;

/** Resolves true once `freshness` is fresh, false after `ms` (bounded polling, 20 ms apart). */
async function firstBeat(freshness: PolicyFreshness, ms: number): Promise<boolean> {
  for (let waited = 0; !freshness.fresh(); waited += 20) {
    if (waited >= ms) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Starts the authorization of a replica; the limits go into `limiter` (the replica's, stopped by its owner). */
export async function startAuthorizer(
  bus: Bus,
  config: RouterPolicyConfig,
  limiter: Limiter,
  log: Logger,
): Promise<Authorizer> {
  if (config.mode === 'off') {
    log.warn('MESHGATE_POLICY=off: every call is allowed and no limit applies (local trials only)');
    return {
      enforcing: false,
      unavailable: () => null,
      decide: () => ({
        v: 1,
        effect: 'allow',
        policies: [],
        reason: 'policy enforcement is off',
        revision: 0,
      }),
      readsAnnotations: () => false,
      admit: () => Allowed,
      status: () => ({ mode: 'off' }),
      stop: async () => {},
    };
  }
  const engine = new PolicyEngine();
  const stops: (() => Promise<void> | void)[] = [];
  let decisions = 0;
  let denials = 0;
  try {
    const sync = await PolicySync.start(bus.nc, {
      bucket: config.bucket,
      engine,
      onInvalid: (name, errors) =>
        log.error(
          { set: name, errors: errors.slice(0, 5) },
          'policy set refused; the previous one stays in force',
        ),
      onError: (err) => log.error({ err }, 'the policy watch failed; every call is refused'),
    });
    stops.push(() => sync.stop());
    const freshness = PolicyFreshness.start(bus.nc, { staleMs: config.staleMs });
    stops.push(() => freshness.stop());
    // The policy service beats every second: a replica starting next to it waits for one beat rather than
    // refusing its first calls; without one in time it starts anyway and refuses until a beat arrives.
    if (!(await firstBeat(freshness, Math.min(config.staleMs, HeartbeatWaitMs))))
      log.warn('no policy service heartbeat yet: calls are refused until one arrives');
    const limits = await watchLimits(bus, config.bucket, (next) => limiter.configure(next), log);
    stops.push(() => limits.stop());
    return {
      enforcing: true,
      unavailable() {
        if (!sync.healthy()) return 'the policy sets cannot be followed';
        if (!freshness.fresh()) return 'no policy service replica answers';
        if (!limits.healthy()) return 'the limits cannot be followed';
        return null;
      },
      decide(session, action, resource, facts) {
        // Built field by field rather than by spreads: this runs for every call of every agent.
        const context: PolicyContext = {
          // Every server comes from the operator's own configuration or admin API until the registry
          // verifies publishers (registry issue); policies can already tell them apart by this field.
          serverTrust: 'internal',
          protocolVersion: session.protocolVersion,
          time: Date.now(),
        };
        if (facts.arguments) context.arguments = facts.arguments;
        // pickHints keeps exactly the four boolean hints PolicyAnnotations describes: no schema pass per call.
        if (facts.annotations) {
          const annotations = pickHints(facts.annotations);
          if (Object.keys(annotations).length > 0) context.annotations = annotations;
        }
        if (facts.clientAddress) context.clientAddress = facts.clientAddress;
        const reply = engine.decide({ v: 1, principal: session.principal, action, resource, context });
        decisions++;
        if (reply.effect === 'deny') denials++;
        return reply;
      },
      readsAnnotations: (session) => engine.readsContext(session.principal.tenant, 'annotations'),
      admit: (session, server, tool) =>
        !limiter.hasRules
          ? Allowed
          : limiter.admit({
              tenant: session.principal.tenant,
              principal: session.principal.id,
              server,
              ...(tool !== undefined ? { tool } : {}),
            }),
      status: () => ({
        mode: 'enforce',
        decisions,
        denials,
        policyRevision: sync.revision,
        sets: engine.sets().length,
        fresh: freshness.fresh(),
      }),
      async stop() {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop();
    throw err;
  }
}

/** The four boolean hints of a tool's annotations; anything else there is not for policies. */
function pickHints(annotations: Record<string, unknown>): PolicyAnnotations {
  const out: Record<string, boolean> = {};
  for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'])
    if (typeof annotations[hint] === 'boolean') out[hint] = annotations[hint];
  return out;
}

/**
 * Follows the `limits` key of the policy bucket: each valid LimitsConfig replaces the limiter's rules; an
 * invalid one is logged and the rules in force stay; a delete leaves no rule. Resolves once the current
 * value (or its absence) is applied.
 */
async function watchLimits(
  bus: Bus,
  bucket: string,
  apply: (config: LimitsConfig) => void,
  log: Logger,
): Promise<{ healthy(): boolean; stop(): Promise<void> }> {
  const kv: KV = await new Kvm(jetstream(bus.nc)).create(bucket, { history: 5, storage: StorageType.File });
  const current = await kv.get(LimitsKey);
  const applyEntry = (entry: Pick<KvWatchEntry, 'operation' | 'value' | 'revision'>) => {
    if (entry.operation !== 'PUT') return apply({ v: 1, rules: [] });
    try {
      const parsed = LimitsConfig.safeParse(JSON.parse(new TextDecoder().decode(entry.value)));
      if (parsed.success) return apply(parsed.data);
      log.error(
        { revision: entry.revision, issue: parsed.error.issues[0]?.message },
        'limits refused; the previous ones stay',
      );
    } catch {
      log.error({ revision: entry.revision }, 'limits are not JSON; the previous ones stay');
    }
  };
  if (current) applyEntry(current);
  let live = true;
  let stopped = false;
  const watch: QueuedIterator<KvWatchEntry> = await kv.watch({
    key: LimitsKey,
    ...(current ? { resumeFromRevision: current.revision + 1 } : {}),
  });
  const loop = (async () => {
    for await (const entry of watch) applyEntry(entry);
  })()
    .catch((err: unknown) => log.error({ err }, 'the limits watch failed'))
    .finally(() => {
      if (!stopped) live = false;
    });
  return {
    healthy: () => live,
    async stop() {
      stopped = true;
      watch.stop();
      await loop;
    },
  };
}
