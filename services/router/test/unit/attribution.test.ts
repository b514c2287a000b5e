import { describe, expect, it } from 'vitest';
import { attribute, attributedSession } from '../../src/upstream/attribution';
import type { CallOrigin } from '../../src/upstream/relay-table';

const call = (sessionId: string, agentId: number): CallOrigin => ({
  sessionId,
  agentId,
  stream: `mg.v1.ingress.i.stream.${sessionId}${agentId}`,
  traceId: '0af7651916cd43dd8448eb211c80319c',
});

describe('attribute', () => {
  it('trusts the wire when it names the request (Streamable HTTP)', () => {
    const a = call('s1', 1);
    expect(attribute(a, undefined, [call('s2', 2), a])).toEqual({ kind: 'call', origin: a });
    expect(attribute(null, undefined, [call('s2', 2)])).toEqual({ kind: 'none' });
    expect(attribute(null, 'owner', [])).toEqual({ kind: 'session', sessionId: 'owner' });
  });

  it('attributes to the only call in flight, or to the only session', () => {
    const a = call('s1', 1);
    expect(attribute(undefined, undefined, [a])).toEqual({ kind: 'call', origin: a });
    expect(attribute(undefined, undefined, [a, call('s1', 2)])).toEqual({ kind: 'session', sessionId: 's1' });
    expect(attribute(undefined, undefined, [])).toEqual({ kind: 'none' });
  });

  it('refuses to guess between sessions on a shared connection', () => {
    expect(attribute(undefined, undefined, [call('s1', 1), call('s2', 1)])).toEqual({
      kind: 'ambiguous',
      sessionIds: ['s1', 's2'],
    });
  });

  it('attributes everything on an owned connection to its owner', () => {
    expect(attribute(undefined, 'own', [])).toEqual({ kind: 'session', sessionId: 'own' });
    expect(attribute(undefined, 'own', [call('own', 1), call('own', 2)])).toEqual({
      kind: 'session',
      sessionId: 'own',
    });
    expect(attributedSession({ kind: 'ambiguous', sessionIds: ['a', 'b'] })).toBeUndefined();
    expect(attributedSession({ kind: 'call', origin: call('x', 1) })).toBe('x');
  });
});
