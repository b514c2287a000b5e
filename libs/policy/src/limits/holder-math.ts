/**
 * The arithmetic of concurrency slots shared by replicas (pure). A counter's KV value maps each holder (a
 * replica's instance id and a number) to the slots it holds and the instant its hold lapses; a replica
 * renews its holds with each heartbeat. Another replica counts a hold until it lapsed `graceMs` ago (room
 * for clock skew), so the slots of a replica that died come back at most `ttl + grace` after its last
 * renewal. A replica admits only within the slots it holds, and holds are granted by compare-and-set
 * against every live hold: while holds are renewed, no more than the limit are in flight in all replicas.
 */
import { z } from 'zod';
import { leaseSize } from './window-math';

/** One holder's hold: `n` slots until `until` (epoch ms, by the holder's clock). */
export const Hold = z.strictObject({ n: z.number().int().nonnegative(), until: z.number().int() });
export type Hold = z.infer<typeof Hold>;

/** The KV value of a concurrency counter (schema version 1). */
export const Holds = z.strictObject({
  v: z.literal(1),
  holds: z.record(z.string().min(1).max(160), Hold),
});
export type Holds = z.infer<typeof Holds>;

/** The holder recorded in place of a value that cannot be read, so that it fails closed until it lapses. */
export const UnreadableHolder = '~unreadable';

/** What this replica asks of the counter. */
export interface HoldRequest {
  me: string;
  nowMs: number;
  ttlMs: number;
  graceMs: number;
  limit: number;
  /** Calls of this replica in flight now (its hold never drops below them). */
  inFlight: number;
}

/** The holds of other replicas that still count at `nowMs`. */
export function liveOthers(holds: Holds['holds'], req: Pick<HoldRequest, 'me' | 'nowMs' | 'graceMs'>) {
  const live: Record<string, Hold> = {};
  let total = 0;
  for (const [holder, hold] of Object.entries(holds)) {
    if (holder === req.me || hold.until + req.graceMs <= req.nowMs || hold.n === 0) continue;
    live[holder] = hold;
    total += hold.n;
  }
  return { live, total };
}

/**
 * Grants this replica what it wants (and up to `grow` more while much is free): its new hold is its calls
 * in flight plus the grant. `free` is what stays free after the grant; `others` says whether any other
 * replica holds slots. Lapsed holds are dropped from the value written.
 */
export function planAcquire(
  current: Holds['holds'],
  req: HoldRequest & { want: number; grow: number },
): { holds: Holds['holds']; granted: number; free: number; others: boolean } {
  const { live, total } = liveOthers(current, req);
  const free = req.limit - total - req.inFlight;
  const granted = leaseSize(free, req.want, req.grow, req.limit);
  const n = req.inFlight + granted;
  const holds = n > 0 ? { ...live, [req.me]: { n, until: req.nowMs + req.ttlMs } } : live;
  return { holds, granted, free: Math.max(0, free - granted), others: total > 0 };
}

/**
 * Sets this replica's hold to `n` slots, renewed for `ttlMs` (removed when `n` is 0); lapsed holds of
 * others are dropped on the way.
 */
export function planHold(current: Holds['holds'], req: Omit<HoldRequest, 'limit' | 'inFlight'>, n: number) {
  const { live } = liveOthers(current, req);
  return n > 0 ? { ...live, [req.me]: { n, until: req.nowMs + req.ttlMs } } : live;
}

/** The holds to write over a value that cannot be read: every slot taken until one lease has passed. */
export function unreadableHolds(limit: number, nowMs: number, ttlMs: number): Holds['holds'] {
  return { [UnreadableHolder]: { n: limit, until: nowMs + ttlMs } };
}
