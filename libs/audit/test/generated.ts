/** Generated JSON-like values (some with `undefined` members) for differential tests of canonical forms. */

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '\n',
  '\t',
  '\u0000',
  '\u001f',
  '\u007f',
  'é',
  '€',
  '\u2028',
  '😀',
  'ﬀ',
  '\ud83d\ude00',
];
const NUMBERS = [
  0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308, 333333333.3333333,
  -2.5,
];

export function value(next: () => number, depth: number, plain = false): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const text = () => Array.from({ length: Math.floor(next() * 6) }, () => pick(ALPHABET)).join('');
  const kind = Math.floor(next() * (depth > 3 ? 5 : 7));
  if (plain && kind === 4) return 'was undefined';
  switch (kind) {
    case 0:
      return text();
    case 1:
      return next() < 0.5 ? pick(NUMBERS) : Math.round((next() - 0.5) * 1e6) / 1e3;
    case 2:
      return next() < 0.5;
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1, plain));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 5) }, () => [text(), value(next, depth + 1, plain)]),
      );
  }
}
