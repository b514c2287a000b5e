/**
 * The decision cache and the engine's resilience: a repeated decision is a hit that returns the same
 * answer, installing or removing a set invalidates, time and arguments join the key only when a policy
 * reads them, the LRU keeps its bound, and a Cedar failure reloads the module without losing the sets.
 */
import { describe, expect, it } from 'vitest';
import { callCedar, CedarTrap } from '../src/cedar-runtime';
import { cedarGeneration, DecisionCache, decisionKey, PolicyEngine } from '../src/index';
import { compiled, request, Tuesday10 } from './fixtures';

const permitAgents = 'permit (principal in Meshgate::Role::"agent", action, resource);';

describe('the decision cache', () => {
  it('answers a repeated decision from the cache, until a set is installed or removed', () => {
    const e = new PolicyEngine();
    e.install(compiled('platform', permitAgents), 1);
    const first = e.decide(request());
    expect(e.stats().cache).toMatchObject({ hits: 0, misses: 1, size: 1 });
    expect(e.decide(request())).toBe(first);
    expect(e.stats()).toMatchObject({ decisions: 2, cache: { hits: 1, misses: 1 } });

    e.install(compiled('platform', `${permitAgents}\nforbid (principal, action, resource);`), 2);
    expect(e.decide(request())).toMatchObject({ effect: 'deny', revision: 2 });
    expect(e.stats().cache).toMatchObject({ hits: 1, misses: 2, size: 1 });
    e.install(compiled('acme', 'permit (principal, action, resource);'), 3);
    expect(e.decide(request())).toMatchObject({ effect: 'deny', revision: 3 });
    e.remove('platform');
    expect(e.decide(request())).toMatchObject({ effect: 'allow', revision: 3, policies: ['acme/policy0'] });
    expect(e.stats().cache.hits).toBe(1);
  });

  it('keys time and arguments only when the policies read them', () => {
    const e = new PolicyEngine();
    e.install(compiled('platform', permitAgents), 1);
    e.decide(request({ context: { time: Tuesday10, arguments: { a: 1 } } }));
    e.decide(request({ context: { time: Tuesday10 + 5_000, arguments: { a: 2 } } }));
    expect(e.stats().cache.hits).toBe(1);

    e.install(
      compiled(
        'platform',
        `${permitAgents}\nforbid (principal, action, resource) when { context.time.hour > 20 };`,
      ),
      2,
    );
    e.decide(request({ context: { time: Tuesday10 } }));
    e.decide(request({ context: { time: Tuesday10 + 999 } }));
    e.decide(request({ context: { time: Tuesday10 + 1_000 } }));
    expect(e.stats().cache).toMatchObject({ hits: 2, misses: 3 });
  });

  it('tells apart what a decision depends on', () => {
    const used = new Set(['arguments', 'time'] as const);
    const key = (over: Parameters<typeof request>[0]) => decisionKey(request(over), '1:-', used);
    const base = key({});
    expect(key({ principal: { roles: ['agent'], groups: [] } })).toBe(base);
    expect(key({ principal: { roles: ['admin'] } })).not.toBe(base);
    expect(key({ principal: { tenant: 'acmf' } })).not.toBe(base);
    expect(key({ principal: { groups: ['ops'] } })).not.toBe(base);
    expect(key({ context: { serverTrust: 'verified' } })).not.toBe(base);
    expect(key({ context: { arguments: { b: 1, a: 2 } } })).toBe(
      key({ context: { arguments: { a: 2, b: 1 } } }),
    );
    expect(key({ context: { arguments: { text: 'x'.repeat(10_000) } } })).toBeNull();
    expect(decisionKey(request(), '2:-', used)).not.toBe(base);
  });

  it('keeps at most its capacity, evicting the least recently used', () => {
    const cache = new DecisionCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
    expect(cache.stats()).toEqual({ hits: 3, misses: 1, size: 2, capacity: 2 });
    const none = new DecisionCache<number>(0);
    none.set('a', 1);
    expect(none.get('a')).toBeUndefined();
    expect(() => new DecisionCache(-1)).toThrow(RangeError);
  });
});

describe('a Cedar failure', () => {
  it('reloads the module; engines preparse their sets again and keep deciding', () => {
    const e = new PolicyEngine({ cacheSize: 0 });
    e.install(compiled('platform', permitAgents), 1);
    expect(e.decide(request()).effect).toBe('allow');
    const before = cedarGeneration();
    expect(() =>
      callCedar(() => {
        throw new RangeError('Maximum call stack size exceeded');
      }),
    ).toThrow(CedarTrap);
    expect(cedarGeneration()).toBe(before + 1);
    expect(e.decide(request())).toMatchObject({ effect: 'allow', policies: ['platform/policy0'] });
    expect(e.decide(request({ principal: { roles: ['auditor'] } })).effect).toBe('deny');
  });
});
