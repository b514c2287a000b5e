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

/** The canonical JSON text of `value`; throws for a value that has none. */
export function canonicalJson(value: unknown): string {
  const text = write(value, 0);
  if (text === undefined) throw new Error('value has no canonical JSON form');
  return text;
}

function write(value: unknown, depth: number): string | undefined {
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
      if (depth >= MAX_DEPTH) throw new Error('Circular reference detected (or nesting too deep)');
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return write((value as { toJSON(): unknown }).toJSON(), depth + 1);
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (i > 0) out += ',';
          out += item === undefined || typeof item === 'symbol' ? 'null' : (write(item, depth + 1) ?? 'null');
        }
        return `${out}]`;
      }
      return writeObject(value as Record<string, unknown>, depth);
    default:
      // undefined, functions, symbols: no JSON text (left out of objects, null in arrays); bigint throws.
      return JSON.stringify(value);
  }
}

function writeObject(object: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = object[key];
    if (member === undefined || typeof member === 'symbol') continue;
    const text = write(member, depth + 1);
    if (text === undefined) continue;
    if (!wellFormed(key)) throw new Error('Lone surrogate is not allowed');
    out += `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}
