/**
 * Requests-per-window limits against a real NATS: exact on one replica, 95-105 of 100 admitted when three
 * replicas (three connections) hammer one rule at once, independent counters per principal, a sliding
 * window that frees on an injected clock, rule changes that keep or reset counts, and hostile values.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Admission } from '../../src/limits/index';
import {
  admitMany,
  cleanUp,
  connectNats,
  keysOf,
  ManualClock,
  openBucket,
  startLimiter,
  uniqueBucket,
} from './limits-fixture';

let nc: NatsConnection;
const replicas: NatsConnection[] = [];

beforeAll(async () => {
  nc = await connectNats('limits-requests');
  for (let i = 0; i < 3; i++) replicas.push(await connectNats(`limits-replica-${i}`));
});
afterEach(() => cleanUp(nc));
afterAll(async () => {
  for (const r of replicas) await r.drain();
  await nc.drain();
});

const call = { tenant: 'acme', principal: 'ann', server: 'files', tool: 'read' };
const perMinute = (limit: number, per: ('principal' | 'tool')[] = []) => ({
  v: 1 as const,
  rules: [{ id: 'per-minute', per, requests: { limit, windowS: 60 } }],
});

describe('requests per window', () => {
  it('admits exactly the limit on one replica, then refuses with the rule and when to retry', async () => {
    const clock = new ManualClock();
    const limiter = await startLimiter(nc, uniqueBucket(), perMinute(7), { now: clock.now });
    const { admitted, answers } = await admitMany(limiter, call, 12);
    expect(admitted).toBe(7);
    const refused = answers.at(-1) as Extract<Admission, { ok: false }>;
    expect(refused.unavailable).toBe(false);
    expect(refused.exceeded).toEqual({ limit: 'per-minute', kind: 'requests', retryAfterMs: 66_000 });
    expect(refused.message).toBe('rate limit "per-minute" exceeded: at most 7 calls in 60 s; retry in 66 s');
  });

  it('admits between 95 and 105 of 100 when three replicas hammer the rule concurrently', async () => {
    const bucket = uniqueBucket();
    const limiters = await Promise.all(replicas.map((r) => startLimiter(r, bucket, perMinute(100))));
    const hammer = async (i: number) => {
      let admitted = 0;
      const lanes = Array.from({ length: 8 }, async () => {
        for (let n = 0; n < 40; n++) if ((await limiters[i]!.admit(call)).ok) admitted++;
      });
      await Promise.all(lanes);
      return admitted;
    };
    const perReplica = await Promise.all([0, 1, 2].map(hammer));
    const total = perReplica.reduce((a, b) => a + b, 0);
    console.log(`three replicas admitted ${total} of 100 (${perReplica.join(' + ')}) out of 960 attempts`);
    expect(total).toBeGreaterThanOrEqual(95);
    expect(total).toBeLessThanOrEqual(100);
  });

  it('keeps one counter per principal', async () => {
    const limiter = await startLimiter(nc, uniqueBucket(), perMinute(3, ['principal']));
    expect((await admitMany(limiter, call, 5)).admitted).toBe(3);
    expect((await admitMany(limiter, { ...call, principal: 'bob@acme.example' }, 5)).admitted).toBe(3);
    expect((await admitMany(limiter, { ...call, tenant: 'globex' }, 1)).admitted).toBe(0);
  });

  it('slides: no more than the limit in any window, freed slot by slot as the clock moves', async () => {
    const clock = new ManualClock();
    const limiter = await startLimiter(nc, uniqueBucket(), perMinute(10), { now: clock.now });
    expect((await admitMany(limiter, call, 4)).admitted).toBe(4);
    clock.advance(30_000);
    expect((await admitMany(limiter, call, 8)).admitted).toBe(6);
    clock.advance(31_000);
    expect((await admitMany(limiter, call, 2)).admitted).toBe(0);
    clock.advance(5_000);
    expect((await admitMany(limiter, call, 6)).admitted).toBe(4);
    clock.advance(30_000);
    expect((await admitMany(limiter, call, 12)).admitted).toBe(6);
    clock.advance(66_000);
    expect((await admitMany(limiter, call, 12)).admitted).toBe(10);
  });

  it('keeps counting when only the number changes, starts afresh when the shape does', async () => {
    const limiter = await startLimiter(nc, uniqueBucket(), perMinute(5));
    expect((await admitMany(limiter, call, 5)).admitted).toBe(5);
    limiter.configure(perMinute(8));
    expect((await admitMany(limiter, call, 5)).admitted).toBe(3);
    limiter.configure(perMinute(2));
    expect((await admitMany(limiter, call, 2)).admitted).toBe(0);
    limiter.configure(perMinute(2, ['principal']));
    expect((await admitMany(limiter, call, 3)).admitted).toBe(2);
    expect(() =>
      limiter.configure({ v: 1, rules: [{ id: 'Bad Id', requests: { limit: 1, windowS: 1 } }] }),
    ).toThrow(/invalid limits configuration: rules.0.id/);
    expect((await admitMany(limiter, call, 1)).admitted).toBe(0);
    limiter.configure({ v: 1, rules: [] });
    expect((await admitMany(limiter, call, 3)).admitted).toBe(3);
  });

  it('gives each hostile principal and tool its own valid KV key', async () => {
    const bucket = uniqueBucket();
    const limiter = await startLimiter(nc, bucket, perMinute(1, ['principal', 'tool']));
    const hostile = [
      { ...call, tool: 'a.b' },
      { ...call, principal: 'ann.a', tool: 'b' },
      { ...call, tool: 'x.>' },
      { ...call, tool: '*' },
      { ...call, tool: 'ツール 🔧' },
      { ...call, principal: 'ann@acme.example', tool: '$KV.>' },
      { ...call, tool: undefined },
    ].map(({ tool, ...rest }) => (tool === undefined ? rest : { ...rest, tool }));
    for (const c of hostile) expect((await limiter.admit(c)).ok).toBe(true);
    for (const c of hostile) expect((await limiter.admit(c)).ok).toBe(false);
    const keys = await keysOf(await openBucket(nc, bucket));
    expect(keys).toHaveLength(hostile.length);
    for (const key of keys) expect(key).toMatch(/^r\.per-minute\.[\w-]{8}\.[\w-]{22}$/);
  });
});
