/**
 * A JSON-safe copy of arbitrary input, cut at configured bounds and optionally redacted. It never throws:
 * cycles, non-finite numbers, lone surrogates, BigInts and values JSON cannot carry become JSON values, and
 * whatever exceeds a bound is replaced by a marker string, so the caller always gets something to record.
 */
import { isSecretKey, looksSecret } from './secrets';

/** Bounds of a copy; `Infinity` switches a bound off. */
export interface CopyLimits {
  /** Objects and arrays nested deeper than this become a marker. */
  maxDepth: number;
  /** Longer strings are cut to this many characters plus a marker. */
  maxStringChars: number;
  /** Objects and arrays keep at most this many entries plus a marker. */
  maxEntries: number;
  /** Approximate JSON size of the copy; once spent, the remaining entries become one marker. */
  maxBytes: number;
  /** Replace secret-keyed and secret-looking values by `Redacted`. */
  redact: boolean;
}

export const Redacted = '[redacted]';
export const Markers = {
  depth: '[truncated: too deep]',
  circular: '[truncated: circular]',
  unreadable: '[unreadable]',
  /** The key under which an object notes its cut entries. */
  moreKey: '[truncated]',
  more: (count: number) => `[truncated: ${count} more entries]`,
  chars: (count: number) => `…[truncated: ${count} more chars]`,
} as const;

interface Walk {
  limits: CopyLimits;
  left: number;
  seen: Set<object>;
}

/**
 * The bounded, JSON-safe (and, when asked, redacted) copy of `value`; undefined becomes null. Input whose
 * reading throws (a getter, a proxy: never JSON-parsed data) becomes the `unreadable` marker.
 */
export function boundedCopy(value: unknown, limits: CopyLimits): unknown {
  try {
    return copy(value, 0, { limits, left: limits.maxBytes, seen: new Set() }) ?? null;
  } catch {
    return Markers.unreadable;
  }
}

function copy(value: unknown, depth: number, walk: Walk): unknown {
  if (typeof value === 'string') return copyString(value, walk);
  if (typeof value === 'number') {
    walk.left -= 8;
    return Number.isFinite(value) ? value : null;
  }
  if (typeof value === 'boolean' || value === null) {
    walk.left -= 5;
    return value;
  }
  if (typeof value === 'bigint') return copyString(value.toString(), walk);
  if (typeof value !== 'object') return undefined;
  if (walk.seen.has(value)) return Markers.circular;
  if (depth >= walk.limits.maxDepth) return Markers.depth;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return copyJsonable(value, depth, walk);
  walk.seen.add(value);
  try {
    return Array.isArray(value) ? copyArray(value, depth, walk) : copyObject(value, depth, walk);
  } finally {
    walk.seen.delete(value);
  }
}

function copyJsonable(value: object, depth: number, walk: Walk): unknown {
  walk.seen.add(value);
  try {
    return copy((value as { toJSON(): unknown }).toJSON(), depth, walk);
  } catch {
    return null;
  } finally {
    walk.seen.delete(value);
  }
}

function copyString(value: string, walk: Walk): string {
  if (walk.limits.redact && looksSecret(value)) {
    walk.left -= Redacted.length + 2;
    return Redacted;
  }
  const { maxStringChars } = walk.limits;
  const kept = value.length > maxStringChars ? value.slice(0, maxStringChars) : value;
  const result = wellFormed(
    kept.length < value.length ? kept + Markers.chars(value.length - kept.length) : kept,
  );
  walk.left -= result.length + 2;
  return result;
}

function copyArray(value: readonly unknown[], depth: number, walk: Walk): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < value.length; i++) {
    if (i >= walk.limits.maxEntries || walk.left <= 0) {
      out.push(Markers.more(value.length - i));
      break;
    }
    walk.left -= 1;
    out.push(copy(value[i], depth + 1, walk) ?? null);
  }
  return out;
}

function copyObject(value: object, depth: number, walk: Walk): Record<string, unknown> {
  const entries: [string, unknown][] = [];
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i >= walk.limits.maxEntries || walk.left <= 0) {
      entries.push([Markers.moreKey, Markers.more(keys.length - i)]);
      break;
    }
    const safeKey = copyKey(key, walk);
    const item = (value as Record<string, unknown>)[key];
    const byKey = walk.limits.redact && isSecretKey(key) && item !== undefined;
    if (byKey) walk.left -= Redacted.length + 2;
    const kept = byKey ? Redacted : copy(item, depth + 1, walk);
    if (kept !== undefined) entries.push([safeKey, kept]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data and never becomes a prototype.
  return Object.fromEntries(entries);
}

function copyKey(key: string, walk: Walk): string {
  const { maxStringChars } = walk.limits;
  const kept =
    key.length > maxStringChars
      ? key.slice(0, maxStringChars) + Markers.chars(key.length - maxStringChars)
      : key;
  walk.left -= kept.length + 4;
  return wellFormed(kept);
}

/** Lone surrogates (legal in JSON text, refused by RFC 8785) become U+FFFD. */
function wellFormed(value: string): string {
  return value.replace(LoneSurrogate, '\uFFFD');
}
const LoneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
