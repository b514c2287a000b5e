/**
 * Which limit rules a call meets and under which KV key each keeps its count (pure). A rule keeps one
 * counter per distinct tuple of its `per` dimensions; the tuple is JSON-encoded (unambiguous whatever the
 * values hold: dots, `>`, `*`, spaces, unicode) and hashed into the key, so a hostile principal id or tool
 * name can neither break a KV key nor share another's counter. The key also carries a digest of the rule's
 * shape (what it matches, what it counts per, its window), so that a rule redefined under the same id
 * starts a fresh count, while a changed number (a raised or lowered limit) keeps counting.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { LimitDimension, LimitRule } from '@meshgate/contracts';

/** One call as the limiter sees it. */
export const LimitCall = z.strictObject({
  tenant: z.string().min(1).max(256),
  principal: z.string().min(1).max(512),
  server: z.string().min(1).max(256),
  tool: z.string().min(1).max(1024).optional(),
});
export type LimitCall = z.infer<typeof LimitCall>;

/** What a counter counts: calls per window, calls in flight, calls per UTC day. */
export type LimitKind = 'requests' | 'concurrent' | 'dailyQuota';

const KindLetter: Record<LimitKind, string> = { requests: 'r', concurrent: 'c', dailyQuota: 'd' };

/** True when `call` is among the calls `match` selects (an omitted field matches every value). */
export function ruleMatches(match: LimitRule['match'], call: LimitCall): boolean {
  return (
    (match.tenant === undefined || match.tenant === call.tenant) &&
    (match.principal === undefined || match.principal === call.principal) &&
    (match.server === undefined || match.server === call.server) &&
    (match.tool === undefined || match.tool === call.tool)
  );
}

/** The counter a call falls in, as a local map key: the JSON of its `per` values (a missing tool is null). */
export function scopeOf(per: readonly LimitDimension[], call: LimitCall): string {
  if (per.length === 0) return '';
  return JSON.stringify(per.map((dimension) => call[dimension] ?? null));
}

/**
 * The key prefix of one kind of limit of `rule`: `<kind letter>.<rule id>.<shape digest>`. The rule id is
 * a slug (a valid KV token); the digest covers what decides which calls share a count.
 */
export function trackPrefix(kind: LimitKind, rule: LimitRule): string {
  const shape = JSON.stringify([
    kind,
    [rule.match.tenant, rule.match.principal, rule.match.server, rule.match.tool],
    rule.per,
    kind === 'requests' ? rule.requests?.windowS : null,
  ]);
  return `${KindLetter[kind]}.${rule.id}.${digest(shape, 8)}`;
}

/** The KV key of one counter: the prefix and 132 bits of SHA-256 over the scope, in base64url. */
export function counterKey(prefix: string, scope: string): string {
  return `${prefix}.${digest(scope, 22)}`;
}

/** The limit `rule` sets for `kind`, or undefined when it sets none. */
export function limitOf(kind: LimitKind, rule: LimitRule): number | undefined {
  if (kind === 'requests') return rule.requests?.limit;
  if (kind === 'concurrent') return rule.concurrent;
  return rule.dailyQuota;
}

/** The kinds of limit `rule` sets, in the order they are checked. */
export function kindsOf(rule: LimitRule): LimitKind[] {
  return (['requests', 'dailyQuota', 'concurrent'] as const).filter((k) => limitOf(k, rule) !== undefined);
}

function digest(text: string, chars: number): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, chars);
}
