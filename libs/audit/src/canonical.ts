/**
 * RFC 8785 (JSON Canonicalization Scheme) of JSON values, written for the audit chain's hot path: the
 * archiver hashes the canonical form of every event, and the `canonicalize` package spent most of an
 * archiver's CPU on it (a character loop per string looking for lone surrogates, a Set per object). The
 * output is the same: object keys sorted by UTF-16 code units, strings and numbers as ECMAScript's
 * JSON.stringify writes them (which is what RFC 8785 prescribes), `undefined` members left out, `toJSON`
 * honoured. A test compares the two on generated values. Like the package, it refuses what has no canonical
 * form: NaN, infinities, lone surrogates (`String.prototype.isWellFormed`, native), and cycles (a depth
 * past {@link MAX_DEPTH}).
 */

/** `String.prototype.isWellFormed` (Node 20; not yet in the ES2023 lib the project compiles against). */
const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Nesting deeper than this is refused (a cycle, or a value no audit event can be). */
export const MAX_DEPTH = 512;

/**
 * The canonical JSON text of `value`; throws for a value that has none, or whose objects and arrays nest
 * `maxDepth` deep or more (the value itself is at depth 0).
 */
export function canonicalJson(value: unknown, maxDepth = MAX_DEPTH): string {
  const plain = plainCopy(value, 0, maxDepth);
  if (plain !== UNUSUAL) return JSON.stringify(plain);
  const text = write(value, 0, maxDepth);
  if (text === undefined) throw new Error('value has no canonical JSON form');
  return text;
}

/** What {@link plainCopy} answers for a value its fast path does not take. */
const UNUSUAL: unique symbol = Symbol('unusual');

/**
 * The fast path, for plain JSON data (what every audit event is): `value` with its objects' keys in sorted
 * order, so that the native JSON.stringify writes the canonical form in one pass (and as one flat string,
 * which hashing then reads without flattening it first). Only the objects whose keys are out of order, and
 * the objects and arrays holding them, are copied (with their keys inserted in order): data whose keys are
 * sorted already, as a schema with sorted fields parses it, is written as it is. Anything the copy
 * could not carry in order is {@link UNUSUAL} and left to {@link write}: a key V8 would not keep in insertion
 * order (an integer-like key: its first character a digit) or that a plain object cannot hold as data
 * (`__proto__`), `undefined`, `toJSON`, a function, symbol or bigint, and nesting `maxDepth` deep.
 * Like `write` it throws for NaN, infinities and lone surrogates (in strings; in keys it leaves them to
 * `write`).
 */
export function plainCopy(value: unknown, depth: number, maxDepth = MAX_DEPTH): unknown {
  switch (typeof value) {
    case 'string':
      if (!wellFormed(value)) throw new Error('Lone surrogate is not allowed');
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`${value} is not allowed`);
      return value;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth >= maxDepth) return UNUSUAL;
      if (Array.isArray(value)) {
        // The array itself while no item needs a copy.
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          const copy = plainCopy(item, depth + 1, maxDepth);
          if (copy === UNUSUAL) return UNUSUAL;
          if (copy !== item) out ??= value.slice(0, i);
          if (out) out[i] = copy;
        }
        return out ?? value;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return UNUSUAL;
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object);
      let ordered = true;
      for (let i = 1; i < keys.length && ordered; i++) ordered = keys[i - 1]! < keys[i]!;
      if (!ordered) keys.sort();
      // An object whose keys are in order already, and whose members need no copy, is written as it is.
      let out: Record<string, unknown> | undefined = ordered ? undefined : {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const first = key.charCodeAt(0);
        if ((first >= 48 && first <= 57) || key === '__proto__' || !wellFormed(key)) return UNUSUAL;
        const member = object[key];
        const copy = plainCopy(member, depth + 1, maxDepth);
        if (copy === UNUSUAL) return UNUSUAL;
        if (copy !== member && !out) {
          out = {};
          for (let j = 0; j < i; j++) out[keys[j]!] = object[keys[j]!];
        }
        if (out) out[key] = copy;
      }
      return out ?? object;
    }
    default:
      return UNUSUAL;
  }
}

function write(value: unknown, depth: number, maxDepth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      if (!wellFormed(value)) throw new Error('Lone surrogate is not allowed');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`${value} is not allowed`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (depth >= maxDepth) throw new Error('Circular reference detected (or nesting too deep)');
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return write((value as { toJSON(): unknown }).toJSON(), depth + 1, maxDepth);
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (i > 0) out += ',';
          out +=
            item === undefined || typeof item === 'symbol'
              ? 'null'
              : (write(item, depth + 1, maxDepth) ?? 'null');
        }
        return `${out}]`;
      }
      return writeObject(value as Record<string, unknown>, depth, maxDepth);
    default:
      // undefined, functions, symbols: no JSON text (left out of objects, null in arrays); bigint throws.
      return JSON.stringify(value);
  }
}

function writeObject(object: Record<string, unknown>, depth: number, maxDepth: number): string {
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = object[key];
    if (member === undefined || typeof member === 'symbol') continue;
    const text = write(member, depth + 1, maxDepth);
    if (text === undefined) continue;
    if (!wellFormed(key)) throw new Error('Lone surrogate is not allowed');
    out += `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}
