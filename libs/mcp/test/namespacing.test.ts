import { describe, expect, it } from 'vitest';
import { namespaceName, splitName, namespaceUri, splitUri, isValidSeparator } from '../src/namespacing';

describe('names', () => {
  it('namespaces and splits back at the first separator', () => {
    expect(namespaceName('github', 'create_issue')).toBe('github__create_issue');
    expect(splitName('github__create_issue')).toEqual({ server: 'github', name: 'create_issue' });
    expect(splitName('my-srv__a__b')).toEqual({ server: 'my-srv', name: 'a__b' });
    expect(splitName('fs.read', '.')).toEqual({ server: 'fs', name: 'read' });
  });

  it('round-trips every name', () => {
    for (const name of ['x', 'a__b', '__lead', 'with space', 'ünïcode', 'trail__']) {
      expect(splitName(namespaceName('srv-1', name))).toEqual({ server: 'srv-1', name });
    }
  });

  it('rejects names that do not carry a valid server', () => {
    expect(splitName('plain')).toBeNull();
    expect(splitName('__tool')).toBeNull();
    expect(splitName('srv__')).toBeNull();
    expect(splitName('1srv__tool')).toBeNull();
    expect(splitName('bad_srv__tool')).toBeNull();
  });

  it('accepts only separators that cannot occur in a server name', () => {
    expect(isValidSeparator('__')).toBe(true);
    expect(isValidSeparator('.')).toBe(true);
    expect(isValidSeparator('')).toBe(false);
    expect(isValidSeparator('-')).toBe(false);
    expect(isValidSeparator('x')).toBe(false);
    expect(isValidSeparator('_________')).toBe(false);
  });
});

describe('resource URIs', () => {
  it('prefixes the URI so that the result is a valid URI scheme', () => {
    expect(namespaceUri('fs', 'file:///tmp/a.txt')).toBe('fs+file:///tmp/a.txt');
    expect(namespaceUri('docs', 'docs://items/{id}')).toBe('docs+docs://items/{id}');
    expect(/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(namespaceUri('fs', 'file:///x'))).toBe(true);
  });

  it('splits at the first +, keeping a + inside the upstream URI', () => {
    expect(splitUri('fs+file:///a+b')).toEqual({ server: 'fs', name: 'file:///a+b' });
    expect(splitUri('git+ssh+git+ssh://host')).toEqual({ server: 'git', name: 'ssh+git+ssh://host' });
    expect(splitUri('file:///a')).toBeNull();
    expect(splitUri('+file:///a')).toBeNull();
  });
});
