import { describe, expect, it } from 'vitest';
import { SubscriptionBook } from '../../src/upstream/subscription-book';
import { TaskBook } from '../../src/upstream/task-book';
import { fetchAllPages, ListCache, MaxListPages } from '../../src/upstream/list-cache';
import { backoffDelay } from '../../src/upstream/lifecycle';
import type { Outcome } from '../../src/upstream/relay-table';

describe('SubscriptionBook', () => {
  it('asks the upstream only for the first subscriber and the last unsubscriber', () => {
    const book = new SubscriptionBook();
    expect(book.isSubscribed('u')).toBe(false);
    book.add('u', 's1');
    book.add('u', 's2');
    expect(book.isSubscribed('u')).toBe(true);
    expect(book.remove('u', 's1')).toBe(false);
    expect(book.remove('u', 's2')).toBe(true);
    expect(book.uris()).toEqual([]);
  });

  it('releases what an ended session held', () => {
    const book = new SubscriptionBook();
    book.add('a', 's1');
    book.add('b', 's1');
    book.add('b', 's2');
    expect(book.dropSession('s1')).toEqual(['a']);
    expect(book.subscribers('b')).toEqual(['s2']);
  });
});

describe('TaskBook', () => {
  it('tells who created a task and forgets the tasks of an ended session', () => {
    const book = new TaskBook();
    book.record('t1', 's1');
    book.record('t2', 's2');
    expect(book.ownerOf('t1')).toBe('s1');
    expect(book.ownerOf('t3')).toBeUndefined();
    expect(book.ownerOf(7)).toBeUndefined();
    book.dropSession('s1');
    expect(book.ownerOf('t1')).toBeUndefined();
    expect(book.ownerOf('t2')).toBe('s2');
  });

  it('forgets the oldest tasks beyond its bound', () => {
    const book = new TaskBook(2);
    for (const id of ['a', 'b', 'c']) book.record(id, 's');
    expect(['a', 'b', 'c'].map((id) => book.ownerOf(id))).toEqual([undefined, 's', 's']);
  });

  it("routes a task's progress to its session, or to the call holding it, until the task ends", () => {
    const book = new TaskBook();
    const call = { sessionId: 's1', agentId: 4, stream: 'x', traceId: 't' };
    book.record('free', 's1', { upstreamToken: 'mg-1', agentToken: 'a' }, { ...call });
    expect(book.progressRoute('mg-1')).toEqual({
      agentToken: 'a',
      attribution: { kind: 'session', sessionId: 's1' },
    });
    book.holdFor(call);
    book.record('held', 's1', { upstreamToken: 'mg-2', agentToken: 9 }, call);
    book.releaseHold(call);
    expect(book.heldBy('held')).toBe(call);
    expect(book.heldBy('free')).toBeUndefined();
    expect(book.progressRoute('mg-2')).toEqual({
      agentToken: 9,
      attribution: { kind: 'call', origin: call },
    });
    book.ended('free');
    expect(book.progressRoute('mg-1')).toBeUndefined();
    expect(book.ownerOf('free')).toBe('s1');
    book.forget('held');
    expect(book.progressRoute('mg-2')).toBeUndefined();
    expect(book.ownerOf('held')).toBeUndefined();
    expect(book.progressRoute(undefined)).toBeUndefined();
  });
});

describe('fetchAllPages', () => {
  const pages =
    (n: number) =>
    async (_m: string, params: Record<string, unknown> | undefined): Promise<Outcome> => {
      const page = Number(params?.['cursor'] ?? 0);
      return {
        result: { tools: [{ name: `t${page}` }], ...(page + 1 < n ? { nextCursor: String(page + 1) } : {}) },
      };
    };

  it('follows cursors to the last page', async () => {
    expect(await fetchAllPages('tools', pages(3), Date.now() + 1000)).toEqual([
      { name: 't0' },
      { name: 't1' },
      { name: 't2' },
    ]);
  });

  it('stops after MaxListPages pages', async () => {
    expect(await fetchAllPages('tools', pages(1000), Date.now() + 1000)).toHaveLength(MaxListPages);
  });

  it('treats -32601 as an empty list and other errors as unavailable', async () => {
    const fail = (code: number) => async (): Promise<Outcome> => ({
      error: { code, message: `code ${code}` },
    });
    expect(await fetchAllPages('prompts', fail(-32601), Date.now() + 1000)).toEqual([]);
    await expect(fetchAllPages('prompts', fail(-32001), Date.now() + 1000)).rejects.toThrow('code -32001');
  });
});

describe('ListCache', () => {
  it('caches a list until invalidated and forgets failures', async () => {
    let calls = 0;
    const cache = new ListCache(async (kind) => {
      calls++;
      if (calls === 2) throw new Error('down');
      return [{ kind }];
    });
    await cache.get('tools', 0);
    await cache.get('tools', 0);
    expect(calls).toBe(1);
    cache.invalidate(['tools']);
    await expect(cache.get('tools', 0)).rejects.toThrow('down');
    expect(await cache.get('tools', 0)).toEqual([{ kind: 'tools' }]);
    expect(calls).toBe(3);
  });
});

describe('backoffDelay', () => {
  it('doubles from 250 ms up to the maximum', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, 30_000))).toEqual([250, 500, 1000, 2000]);
    expect(backoffDelay(10, 30_000)).toBe(30_000);
    expect(backoffDelay(1000, 5_000)).toBe(5_000);
  });
});
