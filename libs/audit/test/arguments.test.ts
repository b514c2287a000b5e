/**
 * The pure core of event building: the digest of arguments, redaction by key and by value shape, the
 * depth and size bounds, and validation of new events.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CallerFault } from '@meshgate/bus';
import { DigestLimits, argumentsDigest, auditArguments } from '../src/arguments';
import { Markers, Redacted, boundedCopy } from '../src/bounded-copy';
import { random, value } from './generated';
import { newAuditEvent } from '../src/event';
import { sampleEvent } from './helpers';

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe('argumentsDigest', () => {
  it('is the SHA-256 of the RFC 8785 form, stable under key order', () => {
    const a = { b: [1, { y: 'x', x: 2.5 }], a: 'é', c: null };
    const b = { c: null, a: 'é', b: [1, { x: 2.5, y: 'x' }] };
    expect(argumentsDigest(a)).toBe(argumentsDigest(b));
    expect(argumentsDigest(a)).toBe(sha(canonicalize(a) as string));
    expect(argumentsDigest(a)).not.toBe(argumentsDigest({ ...a, c: 0 }));
  });

  it('covers the arguments as received, secrets included', () => {
    expect(argumentsDigest({ token: 'a' })).not.toBe(argumentsDigest({ token: 'b' }));
  });

  it('never throws on input RFC 8785 refuses', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i++) deep = { d: deep };
    for (const input of [cyclic, deep, { n: NaN }, { s: 'x\uD800y' }, undefined, 10n])
      expect(argumentsDigest(input)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(argumentsDigest(undefined)).toBe(sha('null'));
  });
  it('is the digest of the arguments normalised within its bounds, whether or not they needed it', () => {
    // The definition: the canonical form of the copy within DigestLimits. JSON-parsed arguments skip the copy.
    const byDefinition = (input: unknown) => sha(canonicalize(boundedCopy(input, DigestLimits)) as string);
    const next = random(256);
    for (let i = 0; i < 2_000; i++) {
      const generated = { root: value(next, 0), list: [value(next, 1), value(next, 1)] };
      expect(argumentsDigest(generated)).toBe(byDefinition(generated));
      const parsed: unknown = JSON.parse(JSON.stringify(generated));
      expect(argumentsDigest(parsed)).toBe(byDefinition(parsed));
    }
    const nested = (levels: number, leaf: unknown): unknown => {
      let v = leaf;
      for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { d: v };
      return v;
    };
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    const throwing = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    const odd: unknown[] = [
      nested(255, 'x'),
      nested(256, 'x'),
      nested(257, 'x'),
      nested(255, {}),
      nested(256, []),
      nested(254, { at: new Date(0) }),
      nested(255, { at: new Date(0) }),
      nested(255, { toJSON: () => ({ a: 1 }) }),
      { s: 'x\uD800y' },
      { ['k\uDC00']: 1 },
      { n: NaN, i: -Infinity, z: -0 },
      JSON.parse('{"__proto__": {"a": 1}, "b": 2}'),
      { '10': 'a', '9': 'b', a: 'c' },
      { big: 10n },
      { f: () => 1, u: undefined, list: [undefined, () => 1] },
      cyclic,
      throwing,
      new Map([[1, 2]]),
      'text',
      42,
      null,
    ];
    for (const input of odd) expect(argumentsDigest(input)).toBe(byDefinition(input));
  });
});

describe('auditArguments redaction', () => {
  it('redacts secret-looking keys at any depth, in arrays too, case-insensitively', () => {
    const { redacted } = auditArguments({
      query: 'weather',
      Authorization: 'Basic abc',
      nested: {
        API_KEY: 'k',
        'private-key': { any: 'thing' },
        list: [{ sessionId: 's', password: 1 }, 'plain'],
      },
      x_access_token: 'abc',
      Cookie: 'c=1',
      credentials: ['a'],
    });
    expect(redacted).toEqual({
      query: 'weather',
      Authorization: Redacted,
      nested: {
        API_KEY: Redacted,
        'private-key': Redacted,
        list: [{ sessionId: Redacted, password: Redacted }, 'plain'],
      },
      x_access_token: Redacted,
      Cookie: Redacted,
      credentials: Redacted,
    });
  });

  it('redacts values shaped like credentials whatever their key', () => {
    const values = [
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
      'use Bearer abcdefgh12345678 here',
      'key AKIAIOSFODNN7EXAMPLE',
      `ghp_${'a'.repeat(36)}`,
      `github_pat_${'B'.repeat(40)}`,
      '-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----',
      '-----BEGIN PRIVATE KEY-----\nMIIE...',
    ];
    const { redacted } = auditArguments({
      note: values,
      ok: 'AKIA lower case akia is fine',
      pem: '-----BEGIN PUBLIC KEY-----',
    });
    expect(redacted).toEqual({
      note: values.map(() => Redacted),
      ok: 'AKIA lower case akia is fine',
      pem: '-----BEGIN PUBLIC KEY-----',
    });
  });

  it('cuts deep nesting, long strings, long arrays and wide objects with markers', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 50; i++) deep = { d: deep };
    const { redacted } = auditArguments(
      {
        deep,
        text: 'x'.repeat(50),
        list: Array.from({ length: 10 }, (_, i) => i),
        wide: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i])),
      },
      { maxDepth: 3, maxStringChars: 8, maxEntries: 4 },
    );
    expect(redacted).toEqual({
      deep: { d: { d: Markers.depth } },
      text: `xxxxxxxx${Markers.chars(42)}`,
      list: [0, 1, 2, 3, Markers.more(6)],
      wide: { k0: 0, k1: 1, k2: 2, k3: 3, [Markers.moreKey]: Markers.more(6) },
    });
  });

  it('keeps the copy of huge arguments within its byte bound', () => {
    const huge = Array.from({ length: 100_000 }, (_, i) => ({ id: i, text: 'y'.repeat(200) }));
    const { digest, redacted } = auditArguments({ huge });
    expect(digest).toBe(sha(canonicalize({ huge }) as string));
    const size = JSON.stringify(redacted).length;
    expect(size).toBeLessThan(20 * 1024);
    expect(JSON.stringify(redacted)).toContain('[truncated:');
  });

  it('keeps "__proto__" keys as data', () => {
    const { redacted } = auditArguments(JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'));
    expect(Object.getPrototypeOf(redacted)).toBe(Object.prototype);
    expect(Object.keys(redacted as object)).toEqual(['__proto__', 'a']);
  });
});

describe('newAuditEvent', () => {
  it('fills version, id and time', () => {
    const event = sampleEvent('acme');
    expect(event.v).toBe(1);
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(event.time)).toBeGreaterThan(Date.now() - 5_000);
    expect(sampleEvent('acme').id).not.toBe(event.id);
  });

  it('refuses an invalid event with a caller fault naming the field', () => {
    const bad = () =>
      newAuditEvent({
        kind: 'cache-hit',
        tenant: 'Not A Token',
        traceId: 'x',
        service: 'cache',
        instance: 'c',
        key: 'k',
      });
    expect(bad).toThrow(CallerFault);
    expect(bad).toThrow(/tenant/);
  });
});
