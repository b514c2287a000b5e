/**
 * Shared slots (an upstream's maxConcurrent across router replicas) against a real NATS: never more than
 * the limit held by three replicas asking at once, a freed slot usable by another replica, the names and
 * limits refused, and a stopped limiter answering `unavailable` after handing its slots back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import type { SharedSlots, SlotAnswer } from '../../src/limits/index';
import { cleanUp, connectNats, keysOf, openBucket, startLimiter, uniqueBucket } from './limits-fixture';

let nc: NatsConnection;
const replicas: NatsConnection[] = [];

beforeAll(async () => {
  nc = await connectNats('shared-slots');
  for (let i = 0; i < 3; i++) replicas.push(await connectNats(`shared-slots-${i}`));
});
afterEach(() => cleanUp(nc));
afterAll(async () => {
  for (const r of replicas) await r.drain();
  await nc.drain();
});

/** A slot at once when the replica has one, else after asking the limit state. */
const take = (slots: SharedSlots): Promise<SlotAnswer> => {
  const now = slots.tryAcquire();
  return now === null ? slots.acquire() : Promise.resolve(now);
};
const freeOf = (answers: SlotAnswer[]) => answers.filter((a): a is () => void => typeof a === 'function');

describe('shared slots', () => {
  it('grants no more than the limit to three replicas asking at once, and moves freed slots', async () => {
    const bucket = uniqueBucket();
    const limiters = await Promise.all(replicas.map((r) => startLimiter(r, bucket, null)));
    const slots = limiters.map((l) => l.sharedSlots('files', 5));
    const answers = await Promise.all(slots.flatMap((s) => Array.from({ length: 4 }, () => take(s))));
    const granted = freeOf(answers);
    expect(granted).toHaveLength(5);
    expect(answers.filter((a) => a === 'full')).toHaveLength(7);
    // Which replicas got the five is a race; a replica that got none gets one as soon as one is freed.
    const starved = slots.find((_, i) => freeOf(answers.slice(i * 4, i * 4 + 4)).length === 0) ?? slots[0]!;
    for (const free of granted) free();
    let again: SlotAnswer = 'full';
    for (let i = 0; i < 100 && again === 'full'; i++) {
      again = await take(starved);
      if (again === 'full') await new Promise((r) => setTimeout(r, 30));
    }
    expect(typeof again).toBe('function');
    expect(await keysOf(await openBucket(nc, bucket))).toEqual(['u.files']);
  });

  it('refuses names that are not KV tokens and limits below one', async () => {
    const limiter = await startLimiter(nc, uniqueBucket(), null);
    expect(() => limiter.sharedSlots('a.b', 1)).toThrow(/invalid shared slot name/);
    expect(() => limiter.sharedSlots('files', 0)).toThrow(/invalid shared slot limit/);
  });

  it('answers unavailable once its limiter stopped, having handed its slots back', async () => {
    const bucket = uniqueBucket();
    const [a, b] = await Promise.all(replicas.slice(0, 2).map((r) => startLimiter(r, bucket, null)));
    const mine = a!.sharedSlots('files', 1);
    const held = await take(mine);
    expect(typeof held).toBe('function');
    const theirs = b!.sharedSlots('files', 1);
    expect(await take(theirs)).toBe('full');
    (held as () => void)();
    await a!.stop();
    expect(await take(mine)).toBe('unavailable');
    let got: SlotAnswer = 'full';
    for (let i = 0; i < 100 && got === 'full'; i++) {
      got = await take(theirs);
      if (got === 'full') await new Promise((r) => setTimeout(r, 30));
    }
    expect(typeof got).toBe('function');
  });
});
