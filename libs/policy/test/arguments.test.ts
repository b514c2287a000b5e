/**
 * Arguments as entity tags: every value at its path, strings as themselves and anything else as canonical
 * JSON, integers also as Longs; keys holding "." or "\" cannot collide with nested paths; hostile keys
 * stay data; arguments too deep or too many are refused rather than partly shown.
 */
import { describe, expect, it } from 'vitest';
import { argumentTags, MaxArgumentDepth, MaxArgumentPaths } from '../src/index';

describe('argumentTags', () => {
  it('shows every value at its path, as text and, for integers, as a number', () => {
    const tags = argumentTags({
      path: '/tmp/a',
      count: 5,
      ratio: 1.5,
      big: 2 ** 60,
      on: true,
      none: null,
      options: { mode: 'read', depth: 2 },
      files: ['a', 'b'],
    });
    expect({ ...tags?.text }).toEqual({
      path: '/tmp/a',
      count: '5',
      ratio: '1.5',
      big: '1152921504606847000',
      on: 'true',
      none: 'null',
      options: '{"depth":2,"mode":"read"}',
      'options.mode': 'read',
      'options.depth': '2',
      files: '["a","b"]',
      'files.0': 'a',
      'files.1': 'b',
    });
    expect({ ...tags?.numbers }).toEqual({ count: 5, 'options.depth': 2 });
    expect(argumentTags(undefined)).toEqual({ text: {}, numbers: {} });
  });

  it('escapes "." and "\\" in keys, so that no key can pose as a nested path', () => {
    const tags = argumentTags({ 'a.b': 'flat', a: { b: 'nested' }, 'c\\': 'slash' });
    expect(tags?.text['a\\.b']).toBe('flat');
    expect(tags?.text['a.b']).toBe('nested');
    expect(tags?.text['c\\\\']).toBe('slash');
  });

  it('keeps hostile keys as plain data', () => {
    const args = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": "x"}') as Record<
      string,
      unknown
    >;
    const tags = argumentTags(args);
    expect(tags?.text['__proto__.polluted']).toBe('yes');
    expect(tags?.text['constructor']).toBe('x');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses arguments deeper or larger than the limits, and takes them at the limits', () => {
    const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : { k: nest(depth - 1) });
    expect(argumentTags({ a: nest(MaxArgumentDepth - 1) })?.text['a.k.k.k.k.k.k.k']).toBe('leaf');
    expect(argumentTags({ a: nest(MaxArgumentDepth) })).toBeNull();
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(argumentTags({ deep })).toBeNull();
    expect(argumentTags({ list: Array.from({ length: MaxArgumentPaths - 1 }, (_, i) => i) })).not.toBeNull();
    expect(argumentTags({ list: Array.from({ length: MaxArgumentPaths }, (_, i) => i) })).toBeNull();
  });
});
