/**
 * Concurrency limits against a real NATS: exact on one replica, never more than the limit across three
 * replicas (and slots move between them as calls end), idempotent release, a dead replica's slots coming
 * back once its hold lapses (on an injected clock), and calls without a concurrency rule holding nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Admission } from '../../src/limits/index';
import { cleanUp, connectNats, ManualClock, startLimiter, uniqueBucket, within } from './limits-fixture';

let nc: NatsConnection;
const replicas: NatsConnection[] = [];

beforeAll(async () => {
  nc = await connectNats('limits-concurrency');
  for (let i = 0; i < 3; i++) replicas.push(await connectNats(`limits-concurrency-${i}`));
});
afterEach(() => cleanUp(nc));
afterAll(async () => {
  for (const r of replicas) if (!r.isClosed()) await r.drain();
  await nc.drain();
});

const call = { tenant: 'acme', principal: 'ann', server: 'files', tool: 'read' };
const inFlight = (limit: number) => ({ v: 1 as const, rules: [{ id: 'in-flight', concurrent: limit }] });
const admittedOf = (answers: Admission[]) =>
  answers.filter((a): a is Extract<Admission, { ok: true }> => a.ok);

describe('concurrent calls', () => {
  it('is exact on one replica: the limit in flight, one more after each release, release idempotent', async () => {
    const limiter = await startLimiter(nc, uniqueBucket(), inFlight(4));
    const first = await Promise.all(Array.from({ length: 6 }, () => limiter.admit(call)));
    const held = admittedOf(first);
    expect(held).toHaveLength(4);
    const refused = first.find((a) => !a.ok);
    expect(refused).toMatchObject({
      unavailable: false,
      exceeded: { limit: 'in-flight', kind: 'concurrent' },
    });
    expect(refused && !refused.ok && refused.exceeded.retryAfterMs).toBeUndefined();
    held[0]!.release();
    held[0]!.release();
    const next = await Promise.all(Array.from({ length: 3 }, () => limiter.admit(call)));
    expect(admittedOf(next)).toHaveLength(1);
    for (const a of [...held, ...admittedOf(next)]) a.release();
    expect(admittedOf(await Promise.all(Array.from({ length: 5 }, () => limiter.admit(call))))).toHaveLength(
      4,
    );
  });

  it('never lets more than the limit in flight across three replicas, and hands slots over as calls end', async () => {
    const bucket = uniqueBucket();
    const limiters = await Promise.all(replicas.map((r) => startLimiter(r, bucket, inFlight(10))));
    const rounds = await Promise.all(
      limiters.map((l) => Promise.all(Array.from({ length: 8 }, () => l.admit(call)))),
    );
    const held = rounds.map(admittedOf);
    const total = held.reduce((n, h) => n + h.length, 0);
    console.log(`three replicas hold ${total} of 10 slots (${held.map((h) => h.length).join(' + ')})`);
    expect(total).toBeLessThanOrEqual(10);
    expect(total).toBeGreaterThanOrEqual(8);
    const full = held.reduce((best, h, i) => (h.length > held[best]!.length ? i : best), 0);
    const released = held[full]!.length;
    for (const a of held[full]!) a.release();
    const other = limiters[(full + 1) % 3]!;
    const gained: Admission[] = [];
    await within(3000, 'released slots reach another replica', async () => {
      const answer = await other.admit(call);
      if (answer.ok) gained.push(answer);
      return gained.length >= released;
    });
    expect(total - released + gained.length).toBeLessThanOrEqual(10);
    if (total === 10) for (const l of limiters) expect((await l.admit(call)).ok).toBe(false);
  });

  it('takes back the slots of a replica that died once its hold lapsed', async () => {
    const clock = new ManualClock();
    const bucket = uniqueBucket();
    const doomed = await connectNats('limits-doomed');
    const dying = await startLimiter(doomed, bucket, inFlight(3), { now: clock.now });
    const survivor = await startLimiter(nc, bucket, inFlight(3), { now: clock.now });
    expect(admittedOf(await Promise.all([1, 2, 3].map(() => dying.admit(call))))).toHaveLength(3);
    await doomed.close();
    expect((await survivor.admit(call)).ok).toBe(false);
    clock.advance(5000);
    expect((await survivor.admit(call)).ok).toBe(false);
    clock.advance(1001);
    expect(admittedOf(await Promise.all([1, 2, 3, 4].map(() => survivor.admit(call))))).toHaveLength(3);
  });

  it('keeps counting the calls of a removed rule when the rule comes back while they run', async () => {
    const limiter = await startLimiter(nc, uniqueBucket(), inFlight(2));
    const held = admittedOf(await Promise.all([1, 2].map(() => limiter.admit(call))));
    expect(held).toHaveLength(2);
    limiter.configure({ v: 1, rules: [] });
    limiter.configure(inFlight(2));
    expect((await limiter.admit(call)).ok).toBe(false);
    for (const a of held) a.release();
    await within(3000, 'the slots of the ended calls come back', async () => {
      const answers = admittedOf(await Promise.all([1, 2, 3].map(() => limiter.admit(call))));
      for (const a of answers) a.release();
      expect(answers.length).toBeLessThanOrEqual(2);
      return answers.length === 2;
    });
  });

  it('holds no slot for calls that meet only a rate rule', async () => {
    const limiter = await startLimiter(nc, uniqueBucket(), {
      v: 1,
      rules: [
        { id: 'rate', match: { server: 'files' }, requests: { limit: 100, windowS: 60 } },
        { id: 'slots', match: { server: 'mail' }, concurrent: 1 },
      ],
    });
    const admitted = admittedOf(await Promise.all([1, 2, 3].map(() => limiter.admit(call))));
    expect(admitted).toHaveLength(3);
    for (const a of admitted) a.release();
    const mail = { ...call, server: 'mail' };
    const [one, two] = await Promise.all([limiter.admit(mail), limiter.admit(mail)]);
    expect([one?.ok, two?.ok].sort()).toEqual([false, true]);
  });
});
