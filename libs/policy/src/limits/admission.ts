/**
 * What the limiter answers for one call: admitted (with the means to end its concurrency slots), or
 * refused with the rule that refused it, when a retry may succeed, and a one-line message for the agent.
 * A refusal because the limit state could not be reached is marked `unavailable` (the caller answers it
 * as ServiceUnavailable rather than RateLimited): the limiter fails closed, it never admits blindly.
 */
import type { LimitExceeded, LimitRule } from '@meshgate/contracts';
import type { Refusal } from './counter';

/** The limiter's answer for one call. */
export type Admission =
  | {
      ok: true;
      /** Ends the call's concurrency slots; safe to call more than once, a no-op when no slot was taken. */
      release(): void;
    }
  | {
      ok: false;
      /** True when the limit state could not be reached, so the call could not be counted. */
      unavailable: boolean;
      exceeded: LimitExceeded;
      message: string;
    };

/** An admission with nothing to release. */
export const Admitted: Admission = Object.freeze({ ok: true as const, release: () => {} });

/** The refusal of a call by `rule`. */
export function refusedBy(rule: LimitRule, refusal: Refusal): Admission {
  const exceeded: LimitExceeded = {
    limit: rule.id,
    kind: refusal.kind,
    ...(refusal.retryAfterMs !== undefined ? { retryAfterMs: refusal.retryAfterMs } : {}),
  };
  return { ok: false, unavailable: refusal.unavailable, exceeded, message: refusalMessage(rule, refusal) };
}

/** The one-line message an agent reads. */
export function refusalMessage(rule: LimitRule, refusal: Refusal): string {
  if (refusal.unavailable)
    return `limit "${rule.id}" cannot be checked: the limit state is unavailable, so the call is refused`;
  const per = rule.per.length > 0 ? ` per ${rule.per.join(' and ')}` : '';
  const retry = refusal.retryAfterMs !== undefined ? `; retry in ${seconds(refusal.retryAfterMs)}` : '';
  switch (refusal.kind) {
    case 'requests':
      return `rate limit "${rule.id}" exceeded: at most ${rule.requests?.limit} calls${per} in ${rule.requests?.windowS} s${retry}`;
    case 'dailyQuota':
      return `daily quota "${rule.id}" used up: ${rule.dailyQuota} calls${per} per UTC day${retry}`;
    case 'concurrent':
      return `concurrency limit "${rule.id}" reached: at most ${rule.concurrent} calls${per} in flight; retry when one ends`;
  }
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))} s`;
}
