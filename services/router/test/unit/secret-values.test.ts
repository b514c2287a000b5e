/**
 * Secret references and the definition fields that hold them: what resolves, what fails and that every
 * failure names the reference and never a value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpServer, ServerDefinition, StdioServer } from '@meshgate/contracts';
import {
  CredentialError,
  MaxSecretFileBytes,
  resolveHeaderSecrets,
  resolveSecret,
  resolveSecrets,
} from '../../src/upstream/secret-values';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-secrets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = { TOKEN: 'from-env', EMPTY: '' };

describe('resolveSecret', () => {
  it('takes literals, variables and trimmed files', async () => {
    const file = join(dir, 'trimmed');
    await writeFile(file, '  file-secret\n');
    expect(await resolveSecret('literal', 'x', env)).toBe('literal');
    expect(await resolveSecret({ env: 'TOKEN' }, 'x', env)).toBe('from-env');
    expect(await resolveSecret({ file }, 'x', env)).toBe('file-secret');
    expect(await resolveSecrets({ A: 'a', B: { env: 'TOKEN' } }, (k) => `env "${k}"`, env)).toEqual({
      A: 'a',
      B: 'from-env',
    });
  });

  it('names the missing reference and where it is used', async () => {
    await expect(resolveSecret({ env: 'NOPE' }, 'clientSecret', env)).rejects.toThrow(
      new CredentialError('clientSecret: environment variable NOPE is not set or empty'),
    );
    await expect(resolveSecret({ env: 'EMPTY' }, 'x', env)).rejects.toThrow(/EMPTY is not set or empty/);
    const missing = join(dir, 'missing');
    await expect(resolveSecret({ file: missing }, 'header "a"', env)).rejects.toThrow(
      `header "a": secret file ${missing} cannot be read (ENOENT)`,
    );
    await expect(resolveSecret({ file: dir }, 'x', env)).rejects.toThrow(/is not a file/);
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n\n');
    await expect(resolveSecret({ file: empty }, 'x', env)).rejects.toThrow(/is empty/);
    const big = join(dir, 'big');
    await writeFile(big, 'k'.repeat(MaxSecretFileBytes + 1));
    await expect(resolveSecret({ file: big }, 'x', env)).rejects.toThrow(/larger than/);
  });

  it('refuses a header value that would break the header, without showing it', async () => {
    const err = await resolveHeaderSecrets({ 'x-key': 'abc\r\nx-injected: 1' }, env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as Error).message).toBe('header "x-key": the value is empty or holds control characters');
    expect(await resolveHeaderSecrets({ 'x-key': 'a\tb' }, env)).toEqual({ 'x-key': 'a\tb' });
  });
});

describe('definition fields', () => {
  const http = { name: 'h', transport: 'streamable-http', url: 'https://mcp.example.com/mcp' };

  it('accepts header and client credentials auth with references', () => {
    const headers = HttpServer.parse({
      ...http,
      auth: {
        type: 'headers',
        headers: { Authorization: { env: 'GH_TOKEN' }, 'x-key': { file: '/run/s/k' } },
      },
    });
    expect(headers.auth).toEqual({
      type: 'headers',
      headers: { Authorization: { env: 'GH_TOKEN' }, 'x-key': { file: '/run/s/k' } },
    });
    const oauth = ServerDefinition.parse({
      ...http,
      auth: {
        type: 'oauth-client-credentials',
        tokenUrl: 'https://auth.example.com/token',
        clientId: 'meshgate',
        clientSecret: { file: 'C:\\secrets\\client' },
        scope: 'mcp',
        resource: 'https://mcp.example.com/mcp',
      },
    });
    expect(oauth.transport === 'streamable-http' && oauth.auth?.type).toBe('oauth-client-credentials');
  });

  it('refuses relative files, bad variable names, unknown auth fields and bad header names', () => {
    const auth = (a: unknown) => HttpServer.safeParse({ ...http, auth: a }).success;
    expect(auth({ type: 'headers', headers: { k: { file: 'relative/key' } } })).toBe(false);
    expect(auth({ type: 'headers', headers: { k: { env: '1BAD' } } })).toBe(false);
    expect(auth({ type: 'headers', headers: { k: { env: 'A', file: '/x' } } })).toBe(false);
    expect(auth({ type: 'headers', headers: { 'bad header': 'v' } })).toBe(false);
    expect(
      auth({ type: 'oauth-client-credentials', tokenUrl: 'ftp://x/token', clientId: 'c', clientSecret: 's' }),
    ).toBe(false);
    expect(auth({ type: 'basic', user: 'u' })).toBe(false);
  });

  it('keeps plain stdio environments valid and accepts references in them', () => {
    const base = { name: 's', transport: 'stdio', command: 'x' };
    expect(StdioServer.parse({ ...base, env: { A: 'b' } }).env).toEqual({ A: 'b' });
    expect(StdioServer.parse({ ...base, env: { A: { env: 'B' } } }).env).toEqual({ A: { env: 'B' } });
    expect(StdioServer.safeParse({ ...base, env: { A: { secret: 'B' } } }).success).toBe(false);
  });
});
