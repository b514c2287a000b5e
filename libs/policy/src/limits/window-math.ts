/**
 * The arithmetic of counted windows (pure). Time is cut into slots; a counter's KV value holds the units
 * leased in each recent slot. A requests limit of W seconds uses slots of W/10 and counts the current slot
 * and the ten before it, so the counted span always covers the last W seconds: at most `limit` calls in
 * any window of W seconds, never more, at the price of freeing units up to one slot (W/10) late. A daily
 * quota is one slot per UTC day. Replicas lease units in blocks: large while much remains, one near the
 * limit, and never more than remain, so the units leased by all replicas never exceed the limit.
 */
import { z } from 'zod';

/** How a counter cuts time: slots of `slotMs`, of which the current one and `lookback` before it count. */
export interface WindowSpec {
  slotMs: number;
  lookback: number;
}

/** A slot index and the units leased in it. */
export type SlotCount = [slot: number, units: number];

/** The KV value of a requests or quota counter (schema version 1). */
export const SlotCounts = z.strictObject({
  v: z.literal(1),
  slotMs: z.number().int().positive(),
  slots: z.array(z.tuple([z.number().int(), z.number().int().nonnegative()])).max(64),
});
export type SlotCounts = z.infer<typeof SlotCounts>;

/** Slots per requests window. */
export const SlotsPerWindow = 10;
export const DayMs = 86_400_000;
/** A block leased never exceeds this, which bounds what a crashed replica can strand. */
export const MaxLease = 1024;
/** A block is at most this fraction of what remains. */
export const LeaseDivisor = 8;
/**
 * A block beyond what waiting callers need is at most this fraction of the limit, which bounds what the
 * replicas can hold unused while another is refused: at most replicas x max(1, limit/128) per window
 * (3 of 100/min with three replicas; 2.3 % of a larger limit with three replicas).
 */
export const LimitLeaseDivisor = 128;

/** The slots of a requests limit of `windowS` seconds. */
export function requestsWindow(windowS: number): WindowSpec {
  return { slotMs: (windowS * 1000) / SlotsPerWindow, lookback: SlotsPerWindow };
}

/** The slots of a daily quota: one per UTC day (epoch days start at UTC midnight). */
export const DailyWindow: WindowSpec = { slotMs: DayMs, lookback: 0 };

/** The slot `nowMs` falls in. */
export function slotAt(spec: WindowSpec, nowMs: number): number {
  return Math.floor(nowMs / spec.slotMs);
}

/**
 * How many units to lease: what the callers waiting now need, or more (up to the replica's growing block
 * size, at most 1/8 of what remains, 1/128 of `limit` and MaxLease) so the next calls need no KV round
 * trip; never more than remains, and 0 when nothing does.
 */
export function leaseSize(remaining: number, want: number, grow: number, limit: number): number {
  if (remaining <= 0) return 0;
  const share = Math.max(1, Math.floor(remaining / LeaseDivisor));
  const cap = Math.max(1, Math.floor(limit / LimitLeaseDivisor));
  return Math.min(remaining, Math.max(want, Math.min(grow, share, cap, MaxLease)));
}

/** The slots still counted at `slot` (the current one, the `lookback` before it, and any later one). */
export function liveSlots(slots: readonly SlotCount[], spec: WindowSpec, slot: number): SlotCount[] {
  return slots.filter(([s, units]) => s >= slot - spec.lookback && units > 0);
}

/** Units counted over `slots`. */
export function unitsIn(slots: readonly SlotCount[]): number {
  let total = 0;
  for (const [, units] of slots) total += units;
  return total;
}

/** `slots` with `units` added to `slot` (negative units give back, never below zero). */
export function addUnits(slots: readonly SlotCount[], slot: number, units: number): SlotCount[] {
  const out: SlotCount[] = [];
  let found = false;
  for (const [s, n] of slots) {
    if (s === slot) {
      found = true;
      out.push([s, Math.max(0, n + units)]);
    } else out.push([s, n]);
  }
  if (!found && units > 0) out.push([slot, units]);
  return out.filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
}

/**
 * The first instant (epoch ms) at which fewer than `limit` units are counted, if nothing more is leased:
 * slots leave the count oldest first, slot s at the start of slot s + lookback + 1.
 */
export function freesAt(slots: readonly SlotCount[], spec: WindowSpec, limit: number, nowMs: number): number {
  const sorted = [...slots].sort((a, b) => a[0] - b[0]);
  let counted = unitsIn(sorted);
  if (counted < limit) return nowMs;
  for (const [s, units] of sorted) {
    counted -= units;
    if (counted < limit) return Math.max(nowMs, (s + spec.lookback + 1) * spec.slotMs);
  }
  return nowMs;
}
