/**
 * Environment references in configuration strings: `${NAME}` takes the variable's value, `${NAME:-text}`
 * falls back to `text` when the variable is unset or empty, and `$${` writes a literal `${`. A reference to
 * a variable that is not set is an error naming the variable and where it was used. Values the caller marks
 * as literal (secret references such as `{env: NAME}` or `{file: /path}`, which another component resolves)
 * are kept exactly as written. Pure: the environment is an argument.
 */

/** The environment references are resolved against. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Tells whether the value at `path` (keys from the root) is kept as written, without expansion. */
export type IsLiteral = (path: readonly string[], value: unknown) => boolean;

/** One unresolved reference: where it is (dotted path) and why it failed. */
export interface UnresolvedReference {
  path: string;
  message: string;
}

const REFERENCE = /\$\$\{|\$\{([^{}]*)\}|\$\{/g;
const BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/** Expands the references of one string, or explains the first one that cannot be expanded. */
export function expandString(
  text: string,
  env: Environment,
): { ok: true; value: string } | { ok: false; message: string } {
  let failure: string | null = null;
  const value = text.replace(REFERENCE, (match: string, body: string | undefined) => {
    if (match === '$${') return '${';
    if (body === undefined) {
      failure ??= 'unterminated "${" (write "$${" for a literal "${")';
      return match;
    }
    const parts = BODY.exec(body);
    if (!parts) {
      failure ??= `invalid environment reference "\${${body.slice(0, 64)}}"`;
      return match;
    }
    const [, name, fallback] = parts as unknown as [string, string, string | undefined];
    const found = env[name];
    if (found !== undefined && (found !== '' || fallback === undefined)) return found;
    if (fallback !== undefined) return fallback;
    failure ??= `environment variable "${name}" is not set`;
    return match;
  });
  return failure === null ? { ok: true, value } : { ok: false, message: failure };
}

/**
 * Expands every string inside a parsed JSON/YAML value (object keys are left as written), except inside
 * the values `isLiteral` selects. Returns the expanded copy and one error per string that could not be
 * expanded.
 */
export function expandReferences(
  value: unknown,
  env: Environment,
  isLiteral: IsLiteral = () => false,
): { value: unknown; errors: UnresolvedReference[] } {
  const errors: UnresolvedReference[] = [];
  const walk = (node: unknown, path: string[]): unknown => {
    if (isLiteral(path, node)) return node;
    if (typeof node === 'string') {
      const expanded = expandString(node, env);
      if (expanded.ok) return expanded.value;
      errors.push({ path: path.join('.'), message: expanded.message });
      return node;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, String(i)]));
    if (typeof node === 'object' && node !== null) {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        Object.defineProperty(copy, key, {
          value: walk(item, [...path, key]),
          enumerable: true,
          writable: true,
        });
      }
      return copy;
    }
    return node;
  };
  return { value: walk(value, []), errors };
}
