/** The in-flight window releases failures in sending order, whatever order their outcomes arrive in. */
import { describe, expect, it } from 'vitest';
import { InFlight } from '../src/in-flight';

describe('InFlight', () => {
  it('holds failures until everything sent before them has settled', () => {
    const window = new InFlight<string>();
    ['a', 'b', 'c', 'd'].forEach((v) => window.add(v));
    expect(window.settle('c', 'failed')).toEqual([]);
    expect(window.settle('d', 'failed')).toEqual([]);
    expect(window.holdsFailures).toBe(true);
    expect(window.settle('b', 'acked')).toEqual([]);
    expect(window.unsettled).toBe(1);
    expect(window.pending).toBe(3);
    expect(window.settle('a', 'failed')).toEqual(['a', 'c', 'd']);
    expect(window.size).toBe(0);
  });

  it('abandons what is not acknowledged, in order, and ignores later outcomes', () => {
    const window = new InFlight<string>();
    ['a', 'b', 'c'].forEach((v) => window.add(v));
    window.settle('b', 'acked');
    window.settle('c', 'failed');
    expect(window.abandon()).toEqual(['a', 'c']);
    expect(window.settle('a', 'acked')).toBeUndefined();
    expect(window.unsettled).toBe(0);
  });
});
