/**
 * `${VAR}` expansion: values, defaults, escapes, values kept literal on request, and an error for every
 * reference that cannot resolve.
 */
import { describe, expect, it } from 'vitest';
import { expandReferences, expandString } from '../src/env-references';

const env = { TOKEN: 'abc', EMPTY: '', HOME: '/home/me' };

describe('expandString', () => {
  it('replaces references, keeps the rest of the text', () => {
    expect(expandString('Bearer ${TOKEN}', env)).toEqual({ ok: true, value: 'Bearer abc' });
    expect(expandString('${HOME}/bin:${TOKEN}', env)).toEqual({ ok: true, value: '/home/me/bin:abc' });
    expect(expandString('no references, $HOME stays', env)).toEqual({
      ok: true,
      value: 'no references, $HOME stays',
    });
  });

  it('uses the fallback when the variable is unset or empty, and an empty value when set without fallback', () => {
    expect(expandString('${MISSING:-8080}', env)).toEqual({ ok: true, value: '8080' });
    expect(expandString('${EMPTY:-x}', env)).toEqual({ ok: true, value: 'x' });
    expect(expandString('[${EMPTY}]', env)).toEqual({ ok: true, value: '[]' });
    expect(expandString('${TOKEN:-unused}', env)).toEqual({ ok: true, value: 'abc' });
  });

  it('writes a literal ${ for $${', () => {
    expect(expandString('$${TOKEN} is ${TOKEN}', env)).toEqual({ ok: true, value: '${TOKEN} is abc' });
  });

  it('names a variable that is not set', () => {
    expect(expandString('Bearer ${GITHUB_TOKEN}', env)).toEqual({
      ok: false,
      message: 'environment variable "GITHUB_TOKEN" is not set',
    });
  });

  it('refuses malformed references', () => {
    expect(expandString('${1BAD}', env)).toEqual({
      ok: false,
      message: 'invalid environment reference "${1BAD}"',
    });
    expect(expandString('${}', env)).toEqual({ ok: false, message: 'invalid environment reference "${}"' });
    expect(expandString('oops ${TOKEN', env)).toMatchObject({
      ok: false,
      message: expect.stringContaining('unterminated'),
    });
  });
});

describe('expandReferences', () => {
  it('expands strings at any depth and reports each failure with its path', () => {
    const result = expandReferences(
      {
        url: 'https://${HOST}/mcp',
        headers: { Authorization: 'Bearer ${TOKEN}' },
        args: ['ok', '${NOPE}'],
        n: 3,
      },
      env,
    );
    expect(result.value).toEqual({
      url: 'https://${HOST}/mcp',
      headers: { Authorization: 'Bearer abc' },
      args: ['ok', '${NOPE}'],
      n: 3,
    });
    expect(result.errors).toEqual([
      { path: 'url', message: 'environment variable "HOST" is not set' },
      { path: 'args.1', message: 'environment variable "NOPE" is not set' },
    ]);
  });

  it('keeps the values the caller marks as literal exactly as written, and still expands the rest', () => {
    const seen: string[] = [];
    const isLiteral = (path: readonly string[], value: unknown) => {
      seen.push(path.join('.'));
      return path[0] === 'secret' && typeof value === 'object';
    };
    const input = { secret: { file: '/run/${NOPE}' }, other: { file: '${HOME}/x' }, plain: '${TOKEN}' };
    const result = expandReferences(input, env, isLiteral);
    expect(result).toEqual({
      value: { secret: { file: '/run/${NOPE}' }, other: { file: '/home/me/x' }, plain: 'abc' },
      errors: [],
    });
    expect(seen).toEqual(['', 'secret', 'other', 'other.file', 'plain']);
  });

  it('keeps a "__proto__" key as plain data', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"polluted": "${TOKEN}"}}');
    const { value } = expandReferences(parsed, env);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: 'abc' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
