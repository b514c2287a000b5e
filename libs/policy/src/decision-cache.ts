/**
 * The decision cache: a bounded LRU map from a decision's key to its reply, and the key itself. The key
 * holds everything a decision depends on and nothing else: the revisions of the sets in force, the
 * principal (tenant, id, kind, effective roles, groups), the action, the resource and the context
 * attributes the policies in force read, canonically (time at second granularity, as policies see it).
 * So a set that never reads `context.time` lets one decision serve every later second. A request whose
 * key would exceed MaxDecisionKeyLength (large arguments), or whose arguments are beyond the limits of
 * arguments.ts, is decided without the cache. Pure: no I/O.
 */
import type { DecisionRequest } from '@meshgate/contracts';
import { argumentsWithinLimits, canonicalArguments } from './arguments';
import { ContextAttributes, type ContextAttribute } from './cedar-schema';
import { clientIp, effectiveRoles } from './entities';

/** The principal's share of a key, worked out once per principal object (callers reuse them per session). */
const principalParts = new WeakMap<DecisionRequest['principal'], string>();

function principalPart(p: DecisionRequest['principal']): string {
  let part = principalParts.get(p);
  if (part === undefined) {
    part = JSON.stringify([p.tenant, p.id, p.kind, effectiveRoles(p.roles), [...p.groups].sort()]);
    principalParts.set(p, part);
  }
  return part;
}

/** Longest key cached; longer requests are decided each time. */
export const MaxDecisionKeyLength = 4096;

/** Counters of a cache, for `$SRV.STATS`, metrics and tests. */
export interface DecisionCacheStats {
  hits: number;
  misses: number;
  size: number;
  capacity: number;
}

/** A least-recently-used map of at most `capacity` entries (0: nothing is kept). */
export class DecisionCache<V> {
  private readonly entries = new Map<string, V>();
  private hits = 0;
  private misses = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`cache size must be a whole number >= 0, not ${capacity}`);
  }

  /** The value of `key`, now the most recently used; counts a hit or a miss. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores `value`, evicting the least recently used entry when full. */
  set(key: string, value: V): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /** Forgets every entry (the counters stay). */
  clear(): void {
    this.entries.clear();
  }

  stats(): DecisionCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.entries.size, capacity: this.capacity };
  }
}

/**
 * The cache key of `req` under the sets of `revisions`, reading the context attributes in `used`; null
 * when it would be longer than MaxDecisionKeyLength.
 */
export function decisionKey(
  req: DecisionRequest,
  revisions: string,
  used: ReadonlySet<ContextAttribute>,
): string | null {
  const r = req.resource;
  // Joined by newlines: no part holds a raw one (names are JSON-quoted, the principal's part is JSON, the
  // rest are enums, revision numbers and server names), so two different requests never share a key.
  let key =
    revisions +
    '\n' +
    principalPart(req.principal) +
    '\n' +
    req.action +
    '\n' +
    r.kind +
    '\n' +
    r.server +
    '\n' +
    (r.kind === 'server' ? '' : JSON.stringify(r.name)) +
    '\n' +
    // A server's trust is an attribute of the Server entity too, read or not by `context.serverTrust`.
    (req.context.serverTrust ?? '');
  const ctx = req.context;
  const readsArguments = used.has('arguments') || used.has('argumentNumbers');
  if (readsArguments) {
    if (!argumentsWithinLimits(ctx.arguments)) return null;
    key += '\n' + canonicalArguments(ctx.arguments);
  }
  for (const name of ContextAttributes) {
    if (!used.has(name)) continue;
    if (name === 'annotations') {
      const a = ctx.annotations;
      key +=
        '\n' + JSON.stringify([a?.readOnlyHint, a?.destructiveHint, a?.idempotentHint, a?.openWorldHint]);
    } else if (name === 'protocolVersion') key += '\n' + JSON.stringify(ctx.protocolVersion ?? null);
    else if (name === 'time') key += '\n' + Math.floor(ctx.time / 1000);
    else if (name === 'clientAddress') key += '\n' + JSON.stringify(clientIp(ctx.clientAddress) ?? null);
  }
  return key.length > MaxDecisionKeyLength ? null : key;
}
