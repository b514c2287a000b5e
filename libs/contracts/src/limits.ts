/**
 * Rate limits and quotas (issue 4), declared in configuration beside the policies and pushed with them
 * (KV `mg_policies`, key `limits`). A rule matches calls by tenant, principal, server and tool, and keeps
 * one counter per distinct value of its `per` dimensions: `per: ["principal"]` gives every matching
 * principal its own budget, `per: []` one budget shared by everything the rule matches.
 */
import { z } from 'zod';
import { TenantId } from './audit';
import { PrincipalId } from './auth';
import { ServerName } from './servers';

/** The KV key of the limits in the policy bucket (`mg_policies`); its value is the JSON of a LimitsConfig. */
export const LimitsKey = 'limits';

/** The dimensions a counter can be kept per. */
export const LimitDimension = z.enum(['tenant', 'principal', 'server', 'tool']);
export type LimitDimension = z.infer<typeof LimitDimension>;

/** A rule id: a short slug, named in the error an agent gets. */
export const LimitId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and "-"');

export const LimitRule = z
  .strictObject({
    id: LimitId,
    /** Which calls the rule applies to; an omitted field matches every value. */
    match: z
      .strictObject({
        tenant: TenantId.optional(),
        principal: PrincipalId.optional(),
        server: ServerName.optional(),
        tool: z.string().min(1).max(256).optional(),
      })
      .default({}),
    per: z.array(LimitDimension).max(4).default([]),
    /** At most `limit` calls in any window of `windowS` seconds. */
    requests: z
      .strictObject({
        limit: z.number().int().min(1).max(10_000_000),
        windowS: z.number().int().min(1).max(86_400),
      })
      .optional(),
    /** At most this many calls in flight at once. */
    concurrent: z.number().int().min(1).max(100_000).optional(),
    /** At most this many calls per UTC day; counted durably, so a restart forgets nothing. */
    dailyQuota: z.number().int().min(1).max(1_000_000_000).optional(),
  })
  .refine(
    (r) => r.requests !== undefined || r.concurrent !== undefined || r.dailyQuota !== undefined,
    'a rule needs at least one of requests, concurrent, dailyQuota',
  )
  .refine((r) => new Set(r.per).size === r.per.length, 'per must name distinct dimensions');
export type LimitRule = z.infer<typeof LimitRule>;
export type LimitRuleInput = z.input<typeof LimitRule>;

export const LimitsConfig = z
  .strictObject({ v: z.literal(1), rules: z.array(LimitRule).max(1000) })
  .refine((c) => new Set(c.rules.map((r) => r.id)).size === c.rules.length, 'rule ids must be distinct');
export type LimitsConfig = z.infer<typeof LimitsConfig>;

/** What an agent is told when a limit refuses its call (JSON-RPC error data). */
export const LimitExceeded = z.object({
  limit: LimitId,
  kind: z.enum(['requests', 'concurrent', 'dailyQuota']),
  /** When a retry may succeed, in ms from now (absent for concurrent limits: when a call ends). */
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type LimitExceeded = z.infer<typeof LimitExceeded>;
