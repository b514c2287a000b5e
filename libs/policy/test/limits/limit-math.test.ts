/**
 * The pure core of the limiter: lease sizes, sliding slots and when they free, concurrency holds, rule
 * matching, and KV keys that stay valid and distinct whatever the tenant, principal, server or tool hold.
 */
import { describe, expect, it } from 'vitest';
import { LimitRule } from '@meshgate/contracts';
import {
  addUnits,
  DailyWindow,
  freesAt,
  leaseSize,
  liveSlots,
  MaxLease,
  requestsWindow,
  slotAt,
} from '../../src/limits/window-math';
import { planAcquire, planHold } from '../../src/limits/holder-math';
import { counterKey, ruleMatches, scopeOf, trackPrefix, type LimitCall } from '../../src/limits/limit-keys';

const KvKey = /^[-/_=a-zA-Z0-9]+(\.[-/_=a-zA-Z0-9]+)*$/;

describe('leaseSize', () => {
  it('grants what waits, grows while much remains, shrinks to one near the limit, never exceeds it', () => {
    const big = 1_000_000;
    expect(leaseSize(0, 5, 64, big)).toBe(0);
    expect(leaseSize(-3, 1, 1, big)).toBe(0);
    expect(leaseSize(1000, 1, 1, big)).toBe(1);
    expect(leaseSize(1000, 1, 64, big)).toBe(64);
    expect(leaseSize(1000, 1, 4096, big)).toBe(125);
    expect(leaseSize(100_000, 1, 4096, big)).toBe(MaxLease);
    expect(leaseSize(7, 1, 64, big)).toBe(1);
    expect(leaseSize(7, 20, 1, big)).toBe(7);
    expect(leaseSize(50, 20, 1, big)).toBe(20);
    // Beyond what callers wait for, a block is at most 1/128 of the limit: 100/min leases one at a time.
    expect(leaseSize(100, 1, 64, 100)).toBe(1);
    expect(leaseSize(100, 30, 64, 100)).toBe(30);
    expect(leaseSize(10_000, 1, 4096, 10_000)).toBe(78);
  });
});

describe('sliding slots', () => {
  const spec = requestsWindow(60);

  it('cuts a window into ten slots and counts the current one and the ten before it', () => {
    expect(spec).toEqual({ slotMs: 6000, lookback: 10 });
    expect(slotAt(spec, 59_999)).toBe(9);
    expect(
      liveSlots(
        [
          [0, 3],
          [5, 0],
          [10, 1],
          [12, 2],
        ],
        spec,
        12,
      ),
    ).toEqual([
      [10, 1],
      [12, 2],
    ]);
    expect(
      liveSlots(
        [
          [2, 3],
          [12, 2],
        ],
        spec,
        12,
      ),
    ).toEqual([
      [2, 3],
      [12, 2],
    ]);
  });

  it('adds and gives back units, never below zero, dropping empty slots', () => {
    expect(addUnits([[1, 2]], 3, 4)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(
      addUnits(
        [
          [1, 2],
          [3, 4],
        ],
        1,
        -5,
      ),
    ).toEqual([[3, 4]]);
    expect(addUnits([[1, 2]], 7, -1)).toEqual([[1, 2]]);
  });

  it('frees the oldest slots first, each at the start of the slot after its lookback', () => {
    const slots: [number, number][] = [
      [0, 5],
      [5, 5],
    ];
    expect(freesAt(slots, spec, 10, 31_000)).toBe(11 * 6000);
    expect(freesAt(slots, spec, 11, 31_000)).toBe(31_000);
    expect(freesAt([[5, 10]], spec, 10, 31_000)).toBe(16 * 6000);
  });

  it('counts a daily quota per UTC day and frees it at midnight', () => {
    const noon = Date.parse('2026-11-24T12:00:00Z');
    const day = slotAt(DailyWindow, noon);
    expect(day).toBe(slotAt(DailyWindow, Date.parse('2026-11-24T00:00:00Z')));
    expect(day + 1).toBe(slotAt(DailyWindow, Date.parse('2026-11-25T00:00:00Z')));
    expect(freesAt([[day, 3]], DailyWindow, 3, noon)).toBe(Date.parse('2026-11-25T00:00:00Z'));
  });
});

describe('concurrency holds', () => {
  const req = { me: 'a', nowMs: 10_000, ttlMs: 5000, graceMs: 1000, limit: 10, inFlight: 0 };

  it('grants within what other live holds leave, and drops holds that lapsed beyond the grace', () => {
    const holds = { b: { n: 6, until: 12_000 }, c: { n: 4, until: 8_999 } };
    const plan = planAcquire(holds, { ...req, want: 3, grow: 1 });
    expect(plan).toMatchObject({ granted: 3, free: 1, others: true });
    expect(plan.holds).toEqual({ b: { n: 6, until: 12_000 }, a: { n: 3, until: 15_000 } });
    expect(planAcquire({ b: { n: 10, until: 9_500 } }, { ...req, want: 1, grow: 1 }).granted).toBe(0);
  });

  it('keeps the calls in flight in the hold and removes a hold of zero', () => {
    const plan = planAcquire({}, { ...req, inFlight: 4, want: 1, grow: 1 });
    expect(plan.holds['a']).toEqual({ n: 5, until: 15_000 });
    expect(planHold({ a: { n: 5, until: 1 } }, req, 0)).toEqual({});
  });
});

describe('rules and keys', () => {
  const rule = LimitRule.parse({
    id: 'per-tool',
    per: ['principal', 'tool'],
    requests: { limit: 5, windowS: 60 },
  });
  const call: LimitCall = { tenant: 'acme', principal: 'ann@acme.example', server: 'files' };

  it('matches on the fields a rule names and treats a missing tool as its own value', () => {
    expect(ruleMatches({}, call)).toBe(true);
    expect(ruleMatches({ tenant: 'acme', server: 'files' }, call)).toBe(true);
    expect(ruleMatches({ tenant: 'globex' }, call)).toBe(false);
    expect(ruleMatches({ tool: 'read' }, call)).toBe(false);
    expect(scopeOf(['tool'], call)).not.toBe(scopeOf(['tool'], { ...call, tool: 'null' }));
  });

  it('makes valid, distinct keys of hostile values and of values that only differ in where a dot is', () => {
    const prefix = trackPrefix('requests', rule);
    const values: LimitCall[] = [
      { ...call, tool: 'a.b' },
      { ...call, principal: 'ann@acme.example.a', tool: 'b' },
      { ...call, tool: '>' },
      { ...call, tool: 'a.*.>' },
      { ...call, tool: 'tool with spaces' },
      { ...call, tool: '工具-🔧' },
      { ...call, principal: '$JS.API', tool: '..' },
      call,
    ];
    const keys = values.map((v) => counterKey(prefix, scopeOf(rule.per, v)));
    for (const key of keys) expect(key).toMatch(KvKey);
    expect(new Set(keys).size).toBe(values.length);
  });

  it('keeps the key prefix when only the number changes, and changes it with the shape', () => {
    const prefix = trackPrefix('requests', rule);
    expect(trackPrefix('requests', { ...rule, requests: { limit: 9, windowS: 60 } })).toBe(prefix);
    expect(trackPrefix('requests', { ...rule, requests: { limit: 5, windowS: 30 } })).not.toBe(prefix);
    expect(trackPrefix('requests', { ...rule, per: ['principal'] })).not.toBe(prefix);
    expect(trackPrefix('requests', { ...rule, match: { server: 'files' } })).not.toBe(prefix);
    expect(trackPrefix('dailyQuota', rule)).not.toBe(prefix);
  });
});
