/**
 * The concurrency gate on its own: slots, FIFO queue, shedding when the queue is full, queue timeouts,
 * waiters that leave, resizing and the numbers it reports.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerDefinition, type JsonRpcErrorObject } from '@meshgate/contracts';
import type { SharedSlots, SlotAnswer } from '@meshgate/policy';
import {
  SharedRetryMs,
  UpstreamGate,
  UpstreamGates,
  gateLimits,
  type Release,
} from '../../src/upstream/upstream-gate';

/** A waiter that records what the gate did with it. */
function waiter(label: string, log: string[]) {
  const state: { release?: Release; error?: JsonRpcErrorObject } = {};
  return {
    state,
    waiter: {
      admit: (release: Release) => {
        log.push(label);
        state.release = release;
      },
      refuse: (error: JsonRpcErrorObject) => {
        state.error = error;
      },
    },
  };
}

const limits = (maxConcurrent: number, maxQueue: number, queueTimeoutMs?: number) => ({
  maxConcurrent,
  maxQueue,
  queueTimeoutMs,
});

afterEach(() => {
  vi.useRealTimers();
});

describe('UpstreamGate', () => {
  it('admits up to its limit, queues first come first served and sheds beyond the queue', () => {
    const gate = new UpstreamGate('slow', limits(2, 2));
    const admitted: string[] = [];
    const signal = new AbortController().signal;
    const all = ['a', 'b', 'c', 'd', 'e'].map((label) => waiter(label, admitted));
    for (const w of all) gate.enter(w.waiter, signal);
    expect(admitted).toEqual(['a', 'b']);
    expect(all[4]?.state.error).toEqual({
      code: -32004,
      message: 'upstream slow overloaded: 2 calls in flight, queue full',
    });
    expect(gate.stats()).toMatchObject({ inFlight: 2, queued: 2, shed: 1, admitted: 2 });
    all[1]?.state.release?.();
    all[1]?.state.release?.();
    expect(admitted).toEqual(['a', 'b', 'c']);
    all[0]?.state.release?.();
    expect(admitted).toEqual(['a', 'b', 'c', 'd']);
    expect(gate.stats()).toMatchObject({ inFlight: 2, queued: 0, peakInFlight: 2, admitted: 4 });
  });

  it('sheds at once with a queue of zero', () => {
    const gate = new UpstreamGate('strict', limits(1, 0));
    const admitted: string[] = [];
    const first = waiter('first', admitted);
    const second = waiter('second', admitted);
    gate.enter(first.waiter, new AbortController().signal);
    gate.enter(second.waiter, new AbortController().signal);
    expect(admitted).toEqual(['first']);
    expect(second.state.error?.code).toBe(-32004);
  });

  it('lets a waiter whose signal aborts leave the queue without calling it', () => {
    const gate = new UpstreamGate('slow', limits(1, 5));
    const admitted: string[] = [];
    const first = waiter('first', admitted);
    const gone = waiter('gone', admitted);
    const next = waiter('next', admitted);
    const leaving = new AbortController();
    gate.enter(first.waiter, new AbortController().signal);
    gate.enter(gone.waiter, leaving.signal);
    gate.enter(next.waiter, new AbortController().signal);
    leaving.abort();
    expect(gate.stats()).toMatchObject({ queued: 1, abandoned: 1 });
    first.state.release?.();
    expect(admitted).toEqual(['first', 'next']);
    expect(gone.state).toEqual({});
    const late = waiter('late', admitted);
    gate.enter(late.waiter, leaving.signal);
    expect(late.state).toEqual({});
  });

  it('refuses a waiter with a timeout error once queueTimeoutMs passed', () => {
    vi.useFakeTimers();
    const gate = new UpstreamGate('slow', limits(1, 5, 100));
    const admitted: string[] = [];
    const first = waiter('first', admitted);
    const waiting = waiter('waiting', admitted);
    gate.enter(first.waiter, new AbortController().signal);
    gate.enter(waiting.waiter, new AbortController().signal);
    vi.advanceTimersByTime(99);
    expect(waiting.state.error).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(waiting.state.error).toEqual({
      code: -32003,
      message: 'upstream slow overloaded: no free slot within 100 ms (1 calls in flight)',
    });
    expect(gate.stats()).toMatchObject({ queued: 0, queueTimeouts: 1 });
    first.state.release?.();
    expect(admitted).toEqual(['first']);
  });

  it('admits waiters when its limit grows and lets the excess finish when it shrinks', () => {
    const gate = new UpstreamGate('slow', limits(1, 5));
    const admitted: string[] = [];
    const all = ['a', 'b', 'c'].map((label) => waiter(label, admitted));
    for (const w of all) gate.enter(w.waiter, new AbortController().signal);
    gate.resize(limits(3, 5));
    expect(admitted).toEqual(['a', 'b', 'c']);
    gate.resize(limits(1, 5));
    const d = waiter('d', admitted);
    gate.enter(d.waiter, new AbortController().signal);
    all[0]?.state.release?.();
    all[1]?.state.release?.();
    expect(admitted).toEqual(['a', 'b', 'c']);
    all[2]?.state.release?.();
    expect(admitted).toEqual(['a', 'b', 'c', 'd']);
  });
});

/**
 * Shared slots as another replica would see them: `free` slots left across all replicas; answers at once
 * while `instant`, else only through `acquire` (as when the limit state must be asked).
 */
class FakeSlots implements SharedSlots {
  instant = true;
  unavailable = false;
  asks = 0;
  private pending: (() => void)[] = [];
  constructor(public free: number) {}
  tryAcquire(): SlotAnswer | null {
    return this.instant ? this.answer() : null;
  }
  acquire(): Promise<SlotAnswer> {
    this.asks++;
    return new Promise((resolve) => this.pending.push(() => resolve(this.answer())));
  }
  /** Answers every pending `acquire`. */
  settle(): void {
    for (const answer of this.pending.splice(0)) answer();
  }
  setLimit(): void {}
  private answer(): SlotAnswer {
    if (this.unavailable) return 'unavailable';
    if (this.free === 0) return 'full';
    this.free--;
    let freed = false;
    return () => {
      if (!freed) this.free++;
      freed = true;
    };
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('UpstreamGate with slots shared by replicas', () => {
  it('queues while other replicas hold every slot and asks again until one is free', async () => {
    vi.useFakeTimers();
    const slots = new FakeSlots(1);
    const gate = new UpstreamGate('shared', limits(5, 5), slots);
    const admitted: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((label) => waiter(label, admitted));
    for (const w of [a, b, c]) gate.enter(w!.waiter, new AbortController().signal);
    expect(admitted).toEqual(['a']);
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 2, shared: true });
    slots.free = 1; // another replica's call ended
    await vi.advanceTimersByTimeAsync(SharedRetryMs);
    expect(admitted).toEqual(['a', 'b']);
    a!.state.release?.();
    expect(admitted).toEqual(['a', 'b', 'c']);
    expect(slots.free).toBe(0);
    b!.state.release?.();
    c!.state.release?.();
    expect(slots.free).toBe(2);
  });

  it('waits for the limit state when it must be asked, one request at a time', async () => {
    const slots = new FakeSlots(2);
    slots.instant = false;
    const gate = new UpstreamGate('shared', limits(5, 0), slots);
    const admitted: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((label) => waiter(label, admitted));
    for (const w of [a, b, c]) gate.enter(w!.waiter, new AbortController().signal);
    expect(admitted).toEqual([]);
    expect(slots.asks).toBe(1);
    for (let i = 0; i < 3; i++) {
      slots.settle();
      await tick();
    }
    expect(admitted).toEqual(['a', 'b']);
    // maxQueue 0: once the state says every slot is taken, the request that waited for the answer is shed.
    expect(c!.state.error).toMatchObject({ code: -32004, message: /limit shared by all router replicas/ });
    expect(gate.stats()).toMatchObject({ inFlight: 2, queued: 0, shed: 1 });
  });

  it('gives back a slot granted to a request that left the queue meanwhile', async () => {
    const slots = new FakeSlots(1);
    slots.instant = false;
    const gate = new UpstreamGate('shared', limits(5, 5), slots);
    const admitted: string[] = [];
    const a = waiter('a', admitted);
    const leaving = new AbortController();
    gate.enter(a.waiter, leaving.signal);
    leaving.abort();
    slots.settle();
    await tick();
    expect(admitted).toEqual([]);
    expect(slots.free).toBe(1);
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0, abandoned: 1 });
  });

  it('refuses with a service-unavailable error while the limit state cannot be reached', () => {
    const slots = new FakeSlots(1);
    slots.unavailable = true;
    const gate = new UpstreamGate('shared', limits(5, 5), slots);
    const a = waiter('a', []);
    gate.enter(a.waiter, new AbortController().signal);
    expect(a.state.error).toMatchObject({
      code: -32005,
      message: /shared concurrency limit cannot be checked/,
    });
    expect(gate.stats()).toMatchObject({ unavailable: 1, inFlight: 0 });
  });
});

describe('UpstreamGates', () => {
  it('keeps one gate per server, applies changed limits and reports every gate', () => {
    const gates = new UpstreamGates();
    const def = ServerDefinition.parse({ name: 'one', transport: 'stdio', command: 'x', maxConcurrent: 2 });
    const gate = gates.forServer(def);
    expect(gates.forServer({ ...def, maxConcurrent: 5 })).toBe(gate);
    expect(gates.stats()).toEqual({
      one: {
        maxConcurrent: 5,
        maxQueue: 256,
        inFlight: 0,
        queued: 0,
        peakInFlight: 0,
        admitted: 0,
        shed: 0,
        queueTimeouts: 0,
        abandoned: 0,
        unavailable: 0,
        shared: false,
      },
    });
  });

  it('shares an explicit maxConcurrent through the slot source, and only an explicit one', () => {
    const asked: [string, number][] = [];
    const gates = new UpstreamGates((server, limit) => {
      asked.push([server, limit]);
      return new FakeSlots(limit);
    });
    gates.forServer(
      ServerDefinition.parse({ name: 'capped', transport: 'stdio', command: 'x', maxConcurrent: 3 }),
    );
    gates.forServer(ServerDefinition.parse({ name: 'plain', transport: 'stdio', command: 'x' }));
    expect(asked).toEqual([['capped', 3]]);
    expect(gates.stats()['capped']?.shared).toBe(true);
    expect(gates.stats()['plain']?.shared).toBe(false);
  });

  it('fills in the default limits of a definition that sets none', () => {
    const def = ServerDefinition.parse({ name: 'plain', transport: 'stdio', command: 'x' });
    expect(gateLimits(def)).toEqual({ maxConcurrent: 64, maxQueue: 256, queueTimeoutMs: undefined });
    const bad = ServerDefinition.safeParse({
      name: 'bad',
      transport: 'stdio',
      command: 'x',
      maxConcurrent: 0,
    });
    expect(bad.success).toBe(false);
  });
});
