/** The audit chain's RFC 8785 writer gives the `canonicalize` package's output, and refuses what it refuses. */
import { describe, expect, it } from 'vitest';
import canonicalize from 'canonicalize';
import { canonicalJson, plainCopy } from '../src/canonical';
import { random, value } from './generated';

describe('canonicalJson', () => {
  it('writes what the canonicalize package writes, on 5,000 generated values', () => {
    const next = random(8785);
    for (let i = 0; i < 5_000; i++) {
      const v = { root: value(next, 0), list: [value(next, 1), value(next, 1)] };
      expect(canonicalJson(v)).toBe(canonicalize(v));
    }
  });

  it('writes plain data in one JSON.stringify pass, the same text as the package', () => {
    const next = random(2026);
    let fast = 0;
    for (let i = 0; i < 5_000; i++) {
      const v = { root: value(next, 0, true), list: [value(next, 1, true)] };
      if (typeof plainCopy(v, 0) === 'object') fast++;
      expect(canonicalJson(v)).toBe(canonicalize(v));
    }
    // Keys that start with a digit go the slow way; most generated values have none.
    expect(fast).toBeGreaterThan(2_500);
  });

  it('writes data whose keys are in order as it is, copying only the objects out of order and their holders', () => {
    const next = random(7);
    let same = 0;
    for (let i = 0; i < 2_000; i++) {
      const v = { root: value(next, 0, true), list: [value(next, 1, true)] };
      const sorted = JSON.parse(canonicalJson(v)) as unknown;
      const copy = plainCopy(sorted, 0);
      if (typeof copy === 'object') {
        expect(copy).toBe(sorted);
        same++;
      }
      expect(canonicalJson(sorted)).toBe(canonicalize(v));
    }
    expect(same).toBeGreaterThan(1_000);
    const kept = { k: 1, l: [{ m: 1 }] };
    const mixed = { a: { x: 2, y: 1 }, b: { p: [1, { r: 1, q: 2 }], z: kept } };
    const copy = plainCopy(mixed, 0) as typeof mixed;
    expect(copy).not.toBe(mixed);
    expect(copy.a).toBe(mixed.a);
    expect(copy.b.z).toBe(kept);
    expect(Object.keys(copy.b.p[1]!)).toEqual(['q', 'r']);
    expect(canonicalJson(mixed)).toBe(canonicalize(mixed));
  });

  it('leaves integer-like keys, __proto__, toJSON and undefined to the full writer', () => {
    const odd = JSON.parse('{"10":1,"9":2,"a":3,"__proto__":{"x":1},"b":[{"2":0,"1":0}]}') as unknown;
    expect(typeof plainCopy(odd, 0)).toBe('symbol');
    expect(canonicalJson(odd)).toBe(canonicalize(odd));
    expect(canonicalJson(odd)).toBe('{"10":1,"9":2,"__proto__":{"x":1},"a":3,"b":[{"1":0,"2":0}]}');
    expect(typeof plainCopy({ a: undefined }, 0)).toBe('symbol');
    expect(typeof plainCopy({ at: new Date(0) }, 0)).toBe('symbol');
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
  });

  it('sorts keys by UTF-16 code units and honours toJSON', () => {
    expect(canonicalJson({ b: 1, a: [true, null], '\u20ac': 0, '\ud83d\ude00': 1, '\ufb33': 2 })).toBe(
      canonicalize({ b: 1, a: [true, null], '\u20ac': 0, '\ud83d\ude00': 1, '\ufb33': 2 }),
    );
    const at = new Date(Date.UTC(2026, 10, 24));
    expect(canonicalJson({ at })).toBe('{"at":"2026-11-24T00:00:00.000Z"}');
  });

  it('refuses NaN, infinities, lone surrogates in values and keys, and cycles', () => {
    expect(() => canonicalJson({ n: NaN })).toThrow(/NaN/);
    expect(() => canonicalJson([Infinity])).toThrow(/Infinity/);
    expect(() => canonicalJson({ s: 'a\ud800b' })).toThrow(/Lone surrogate/);
    expect(() => canonicalJson({ ['\udc00']: 1 })).toThrow(/Lone surrogate/);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/Circular/);
  });
});
