/**
 * Tool and prompt arguments as Cedar sees them (see cedar-schema.ts): every value of the JSON arguments
 * at its path, as text for `context.arguments` (a string as itself, anything else as canonical JSON) and,
 * when it is an integer Cedar can hold, as a Long for `context.argumentNumbers`. Path segments are object
 * keys and array indexes joined with `.`; a `.` or `\` inside a key is escaped with `\`, so that no two
 * values can claim one path. Arguments deeper than MaxArgumentDepth or with more than MaxArgumentPaths
 * values are refused (null): a policy about a value that has no path could be evaded by nesting it.
 */
import canonicalize from 'canonicalize';

/** Deepest path (in segments) of an argument value. */
export const MaxArgumentDepth = 8;
/** Most values (containers included) the arguments may hold. */
export const MaxArgumentPaths = 1024;

/** The two tag maps of one request's arguments. */
export interface ArgumentTags {
  text: Record<string, string>;
  numbers: Record<string, number>;
}

type Entry = readonly [path: string, value: unknown, depth: number];

/** The tags of `args`, or null when they are too deep or too many to be judged. */
export function argumentTags(args: Record<string, unknown> | undefined): ArgumentTags | null {
  const text: Record<string, string> = Object.create(null);
  const numbers: Record<string, number> = Object.create(null);
  if (args === undefined) return { text, numbers };
  // Measured first, without recursion: canonical JSON of a container is only made once depth is bounded.
  if (!argumentsWithinLimits(args)) return null;
  const pending: Entry[] = children('', args, 1);
  for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
    const [path, value, depth] = entry;
    if (typeof value === 'string') text[path] = value;
    else if (typeof value === 'number') {
      text[path] = JSON.stringify(value);
      if (Number.isSafeInteger(value)) numbers[path] = value;
    } else if (typeof value === 'boolean' || value === null) text[path] = String(value);
    else if (typeof value === 'object') {
      text[path] = canonicalize(value) ?? 'null';
      pending.push(...children(path, value, depth + 1));
    }
  }
  return { text, numbers };
}

/** The canonical JSON of `args`, for a cache key; only for arguments within the limits. */
export function canonicalArguments(args: Record<string, unknown> | undefined): string {
  return args === undefined ? '' : (canonicalize(args) ?? '');
}

/** True when `args` are no deeper than MaxArgumentDepth and hold at most MaxArgumentPaths values. */
export function argumentsWithinLimits(args: Record<string, unknown> | undefined): boolean {
  if (args === undefined) return true;
  let count = 0;
  const pending: [value: unknown, depth: number][] = [[args, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, depth] = next;
    if (value === null || typeof value !== 'object') continue;
    const values = Object.values(value);
    count += values.length;
    if (count > MaxArgumentPaths) return false;
    if (values.length > 0 && depth >= MaxArgumentDepth) return false;
    for (const child of values) pending.push([child, depth + 1]);
  }
  return true;
}

function children(prefix: string, value: object, depth: number): Entry[] {
  const at = (segment: string) => (prefix === '' ? segment : `${prefix}.${segment}`);
  if (Array.isArray(value)) return value.map((item, index) => [at(String(index)), item, depth] as const);
  return Object.entries(value).map(([key, item]) => [at(escapeSegment(key)), item, depth] as const);
}

/** A key as one path segment: `.` and `\` escaped with `\`. */
export function escapeSegment(key: string): string {
  return key.replace(/[\\.]/g, '\\$&');
}
