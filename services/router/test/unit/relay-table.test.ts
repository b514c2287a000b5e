import { describe, expect, it, vi } from 'vitest';
import { RelayTable } from '../../src/upstream/relay-table';

const origin = {
  sessionId: 's1',
  agentId: 'a-1',
  stream: undefined,
  traceId: '0af7651916cd43dd8448eb211c80319c',
};

describe('RelayTable', () => {
  it('gives every request a unique id and maps the answer back', async () => {
    const t = new RelayTable();
    const a = t.open('tools/call', { name: 'x' }, origin, 1000, () => undefined);
    const b = t.open(
      'tools/call',
      { name: 'y' },
      { ...origin, agentId: 'a-1', sessionId: 's2' },
      1000,
      () => undefined,
    );
    expect(a.pending.id).not.toBe(b.pending.id);
    expect(a.pending.message).toEqual({
      jsonrpc: '2.0',
      id: a.pending.id,
      method: 'tools/call',
      params: { name: 'x' },
    });
    expect(t.settle(b.pending.id, { result: { ok: 2 } })).toBe(true);
    expect(t.settle(b.pending.id, { result: { ok: 3 } })).toBe(false);
    await expect(b.outcome).resolves.toEqual({ result: { ok: 2 } });
    expect(t.findCall('s1', 'a-1')).toBe(a.pending);
    expect(t.origins()).toEqual([origin]);
  });

  it("replaces the agent's progress token by a unique one and finds the call by it", () => {
    const t = new RelayTable();
    const params = { name: 'x', _meta: { progressToken: 7, other: true } };
    const { pending } = t.open('tools/call', params, origin, 1000, () => undefined);
    const sent = pending.message.params as { _meta: { progressToken: unknown; other: boolean } };
    expect(sent._meta.other).toBe(true);
    expect(sent._meta.progressToken).not.toBe(7);
    expect(params._meta.progressToken).toBe(7);
    expect(t.byToken(sent._meta.progressToken)).toBe(pending);
    expect(pending.agentToken).toBe(7);
    t.settle(pending.id, { result: {} });
    expect(t.byToken(sent._meta.progressToken)).toBeUndefined();
  });

  it('times a request out with -32003 and tells the caller', async () => {
    vi.useFakeTimers();
    try {
      const t = new RelayTable();
      const onTimeout = vi.fn();
      const { outcome, pending } = t.open('tools/call', undefined, origin, 500, onTimeout);
      vi.advanceTimersByTime(501);
      expect(onTimeout).toHaveBeenCalledWith(pending);
      await expect(outcome).resolves.toMatchObject({ error: { code: -32003 } });
      expect(t.all()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('settles everything except what it is told to keep', async () => {
    const t = new RelayTable();
    const a = t.open('a', undefined, undefined, 1000, () => undefined);
    const b = t.open('b', undefined, undefined, 1000, () => undefined);
    b.pending.parked = true;
    t.settleAll({ error: { code: -32001, message: 'gone' } }, (p) => p.parked);
    await expect(a.outcome).resolves.toEqual({ error: { code: -32001, message: 'gone' } });
    expect(t.all()).toEqual([b.pending]);
    t.settle(b.pending.id, { result: {} });
  });
});
