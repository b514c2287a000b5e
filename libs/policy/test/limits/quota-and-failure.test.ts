/**
 * Daily quotas and failing closed against a real NATS: a quota's count survives a restart (a new limiter
 * on the same bucket), a crash strands at most one lease, the count starts afresh at UTC midnight; a
 * limiter whose connection is closed refuses as `unavailable` and tells onError; a value that cannot be
 * read refuses until it is rewritten; calls no rule meets are admitted without I/O; bad input is refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Admission } from '../../src/limits/index';
import { InvalidLimitsInput, LimitsBucketMaxAgeMs } from '../../src/limits/index';
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

beforeAll(async () => {
  nc = await connectNats('limits-quota');
});
afterEach(() => cleanUp(nc));
afterAll(async () => {
  await nc.drain();
});

const call = { tenant: 'acme', principal: 'ann', server: 'files', tool: 'read' };
const daily = (quota: number) => ({
  v: 1 as const,
  rules: [{ id: 'daily', per: ['principal' as const], dailyQuota: quota }],
});

describe('daily quotas', () => {
  it('continues the count after a restart, then refuses until UTC midnight', async () => {
    const clock = new ManualClock(Date.parse('2026-11-24T22:00:00Z'));
    const bucket = uniqueBucket();
    const before = await startLimiter(nc, bucket, daily(1000), { now: clock.now });
    expect((await admitMany(before, call, 25)).admitted).toBe(25);
    await before.stop();
    const after = await startLimiter(nc, bucket, daily(1000), { now: clock.now });
    const { admitted, answers } = await admitMany(after, call, 980);
    expect(admitted).toBe(975);
    const refused = answers.at(-1) as Extract<Admission, { ok: false }>;
    expect(refused.exceeded).toEqual({ limit: 'daily', kind: 'dailyQuota', retryAfterMs: 2 * 3600_000 });
    expect(refused.message).toBe(
      'daily quota "daily" used up: 1000 calls per principal per UTC day; retry in 7200 s',
    );
    clock.advance(2 * 3600_000);
    expect((await admitMany(after, call, 1001)).admitted).toBe(1000);
  });

  it('loses at most one lease of a replica that crashed', async () => {
    const clock = new ManualClock();
    const bucket = uniqueBucket();
    const doomed = await connectNats('limits-quota-doomed');
    const crashed = await startLimiter(doomed, bucket, daily(1000), { now: clock.now });
    const lanes = await Promise.all([1, 2, 3, 4].map(() => admitMany(crashed, call, 30)));
    expect(lanes.reduce((n, l) => n + l.admitted, 0)).toBe(120);
    await doomed.close();
    const survivor = await startLimiter(nc, bucket, daily(1000), { now: clock.now });
    const { admitted } = await admitMany(survivor, call, 900);
    console.log(`after a crash with 120 calls admitted, the survivor admitted ${admitted} of the 880 left`);
    expect(admitted).toBeLessThanOrEqual(880);
    // Stranded: the last lease (at most 1/8 of what remained) and the quarter of the one before it.
    expect(admitted).toBeGreaterThanOrEqual(880 - Math.ceil((1.25 * 1000) / 8));
  });
});

describe('failing closed', () => {
  it('refuses as unavailable when the KV cannot be reached, tells onError once per counter', async () => {
    const conn = await connectNats('limits-closed');
    const errors: unknown[] = [];
    const limiter = await startLimiter(
      conn,
      uniqueBucket(),
      {
        v: 1,
        rules: [
          { id: 'rate', requests: { limit: 5, windowS: 60 } },
          { id: 'slots', concurrent: 2 },
        ],
      },
      { onError: (err) => errors.push(err) },
    );
    await conn.close();
    const answer = await limiter.admit(call);
    expect(answer).toMatchObject({
      ok: false,
      unavailable: true,
      exceeded: { limit: 'rate', kind: 'requests' },
    });
    expect(!answer.ok && answer.message).toBe(
      'limit "rate" cannot be checked: the limit state is unavailable, so the call is refused',
    );
    expect(errors).toHaveLength(2);
    expect(await limiter.admit(call)).toMatchObject({ ok: false, unavailable: true });
    expect(errors).toHaveLength(2);
    limiter.configure({ v: 1, rules: [{ id: 'globex-only', match: { tenant: 'globex' }, concurrent: 1 }] });
    expect(await limiter.admit(call)).toMatchObject({ ok: true });
  });

  it('refuses on a value it cannot read, and rewrites it so that it heals once the window passed', async () => {
    const clock = new ManualClock();
    const bucket = uniqueBucket();
    const limiter = await startLimiter(nc, bucket, daily(5), { now: clock.now });
    expect((await limiter.admit(call)).ok).toBe(true);
    const kv = await openBucket(nc, bucket);
    const [key] = await keysOf(kv);
    await kv.put(key!, 'not json');
    const fresh = await startLimiter(nc, bucket, daily(5), { now: clock.now });
    expect((await fresh.admit(call)).ok).toBe(false);
    clock.advance(86_400_000);
    expect((await admitMany(fresh, call, 6)).admitted).toBe(5);
  });

  it('creates its bucket with one value per key, a two-day max_age and the max_bytes asked', async () => {
    const bucket = uniqueBucket();
    await startLimiter(nc, bucket, null, { maxBytes: 256 * 1024 });
    const status = await (await openBucket(nc, bucket)).status();
    expect({ history: status.history, ttl: status.ttl, maxBytes: status.max_bytes }).toEqual({
      history: 1,
      ttl: LimitsBucketMaxAgeMs,
      maxBytes: 256 * 1024,
    });
    expect(LimitsBucketMaxAgeMs).toBeGreaterThanOrEqual(1.1 * 86_400_000);
  });

  it('admits at once when no rule applies, and refuses bad input', async () => {
    const limiter = await startLimiter(nc, uniqueBucket(), null);
    const none = limiter.admit(call);
    expect(await none).toMatchObject({ ok: true });
    limiter.configure({ v: 1, rules: [{ id: 'other', match: { tenant: 'globex' }, concurrent: 1 }] });
    expect(await limiter.admit(call)).toMatchObject({ ok: true });
    await expect(limiter.admit({ ...call, tenant: 'globex', server: '' })).rejects.toThrow(
      InvalidLimitsInput,
    );
    await expect(startLimiter(nc, uniqueBucket(), null, { instance: '' })).rejects.toThrow(/instance/);
  });
});
