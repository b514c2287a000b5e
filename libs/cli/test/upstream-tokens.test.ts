/**
 * `meshgate upstream-tokens put|status|delete` against the real self-service API (libs/auth's plugin on a
 * Fastify listening on loopback, keys and sealed tokens in buckets of their own on the shared test NATS):
 * argument parsing and its usage errors, the token read from a file or standard input and never printed,
 * each principal seeing only its own token, bad token files refused before anything is sent, API refusals
 * and an unreachable ingress explained with exit code 1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  ApiKeyStore,
  ApiKeyVerifier,
  UpstreamTokenKeyring,
  UpstreamTokenStore,
  upstreamTokensApi,
} from '@meshgate/auth';
import { freePort } from '@meshgate/testing';
import { parseCommand, UsageError } from '../src/args';
import { run } from '../src/cli';
import { captureIo } from './io-capture';

const suffix = randomBytes(5).toString('hex');
const keyBucket = `mg_test_api_keys_${suffix}`;
const tokenBucket = `mg_test_upstream_tokens_${suffix}`;
const token = 'ghp_CLI-secret-upstream-token.value';
let nc: NatsConnection;
let verifier: ApiKeyVerifier;
let store: UpstreamTokenStore;
let app: FastifyInstance;
let url: string;
let ada: string;
let bob: string;
let dir: string;

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  const keys = await ApiKeyStore.open(nc, { bucket: keyBucket });
  ({ apiKey: ada } = await keys.create({ tenant: 'acme', principal: 'ada', kind: 'user', roles: ['agent'] }));
  ({ apiKey: bob } = await keys.create({ tenant: 'acme', principal: 'bob', kind: 'user', roles: ['agent'] }));
  verifier = await ApiKeyVerifier.start(nc, { bucket: keyBucket });
  store = await UpstreamTokenStore.open(nc, new UpstreamTokenKeyring(randomBytes(32)), {
    bucket: tokenBucket,
  });
  app = Fastify();
  await app.register(upstreamTokensApi, { store, apiKeys: verifier });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'mg-upstream-tokens-'));
  await writeFile(join(dir, 'token.txt'), `${token}\n`);
});
afterAll(async () => {
  await app?.close();
  await verifier?.stop();
  const kvm = new Kvm(nc);
  for (const b of [keyBucket, tokenBucket]) await (await kvm.open(b)).destroy().catch(() => false);
  await nc?.drain();
  await rm(dir, { recursive: true, force: true });
});

async function meshgate(argv: string[], apiKey = ada, stdin?: string, ingressUrl = url) {
  const io = captureIo();
  const env = { MESHGATE_INGRESS_URL: ingressUrl, MESHGATE_API_KEY: apiKey };
  const code = await run(['upstream-tokens', ...argv], {
    io,
    env,
    cwd: dir,
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
  });
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('meshgate upstream-tokens parsing', () => {
  const env = { MESHGATE_API_KEY: 'k' };

  it('builds commands with defaults and flags', () => {
    expect(parseCommand(['upstream-tokens', 'put', 'github', '--token-file', '-'], env)).toEqual({
      kind: 'upstream-tokens-put',
      ingressUrl: 'http://127.0.0.1:8080',
      apiKey: 'k',
      json: false,
      server: 'github',
      tokenFile: '-',
    });
    expect(
      parseCommand(['upstream-tokens', 'status', 'gh', '--ingress-url', 'http://h:1/', '--api-key', 'f'], {}),
    ).toEqual({
      kind: 'upstream-tokens-status',
      ingressUrl: 'http://h:1',
      apiKey: 'f',
      json: false,
      server: 'gh',
    });
    expect(parseCommand(['upstream-tokens', 'delete', 'gh', '--json'], env)).toMatchObject({
      kind: 'upstream-tokens-delete',
      json: true,
    });
  });

  it('turns every mistake into a usage error', () => {
    const usage = (argv: string[], message: string | RegExp, e: Record<string, string> = env) =>
      expect(() => parseCommand(['upstream-tokens', ...argv], e), argv.join(' ')).toThrow(
        typeof message === 'string' ? new UsageError(message) : message,
      );
    usage([], '"upstream-tokens" needs a subcommand: put, delete or status');
    usage(['show', 'gh'], 'unknown subcommand "upstream-tokens show"');
    usage(['status'], '"upstream-tokens status" needs the server name');
    usage(['status', 'git_hub'], /^invalid server name "git_hub"/);
    usage(['status', 'gh', 'extra'], 'unexpected argument "extra"');
    usage(['put', 'gh'], '"upstream-tokens put" needs --token-file <path> (or --token-file - for stdin)');
    usage(['delete', 'gh', '--token-file', 'x'], /Unknown option '--token-file'/);
    usage(['put', 'gh', '--token', 'x'], /Unknown option '--token'/);
    usage(['status', 'gh'], '"upstream-tokens" needs your API key: --api-key or MESHGATE_API_KEY', {});
    usage(
      ['status', 'gh', '--ingress-url', 'ftp://x'],
      '--ingress-url must be an http(s) URL, got "ftp://x"',
    );
  });
});

describe('meshgate upstream-tokens against the API', () => {
  it('stores a token from a file, reports its status, and deletes it, never printing it', async () => {
    const put = await meshgate(['put', 'github', '--token-file', 'token.txt']);
    expect(put).toEqual({
      code: 0,
      out: 'stored your upstream token for server "github" (encrypted; it is never shown again)\n',
      err: '',
    });
    expect(await store.get({ tenant: 'acme', principal: 'ada' }, 'github')).toBe(token);
    const status = await meshgate(['status', 'github']);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/^an upstream token for server "github" is stored \(updated \d{4}-\d\d-\d\dT/);
    const json = await meshgate(['status', 'github', '--json']);
    expect(JSON.parse(json.out)).toEqual({ server: 'github', stored: true, updatedAt: expect.any(String) });
    expect(await meshgate(['status', 'github'], bob)).toMatchObject({
      code: 0,
      out: 'no upstream token is stored for server "github"\n',
    });
    const foreign = await meshgate(['delete', 'github'], bob);
    expect(foreign.code).toBe(1);
    expect(foreign.err).toContain('404 no upstream token stored for server "github"');
    expect(await meshgate(['delete', 'github'])).toMatchObject({
      code: 0,
      out: 'deleted your upstream token for server "github"\n',
    });
    expect(JSON.parse((await meshgate(['status', 'github', '--json'])).out)).toEqual({
      server: 'github',
      stored: false,
    });
    for (const r of [put, status, json]) expect(r.out + r.err).not.toContain(token);
  });

  it('reads the token from standard input with --token-file -', async () => {
    const put = await meshgate(['put', 'gitlab', '--token-file', '-', '--json'], bob, `  ${token}-bob\r\n`);
    expect(put).toEqual({ code: 0, out: '{"server":"gitlab","stored":true}\n', err: '' });
    expect(await store.get({ tenant: 'acme', principal: 'bob' }, 'gitlab')).toBe(`${token}-bob`);
  });

  it('refuses bad token files before sending anything, without printing their content', async () => {
    await writeFile(join(dir, 'empty.txt'), '\n');
    await writeFile(join(dir, 'spaces.txt'), `${token} ${token}`);
    await writeFile(join(dir, 'huge.txt'), 'a'.repeat(20_000));
    const cases: Array<[string, string | undefined, string]> = [
      ['missing.txt', undefined, 'meshgate: cannot read the token from missing.txt: ENOENT\n'],
      ['empty.txt', undefined, 'meshgate: no token in empty.txt: it is empty\n'],
      [
        'spaces.txt',
        undefined,
        'meshgate: the token in spaces.txt is not valid: printable ASCII without spaces\n',
      ],
      ['huge.txt', undefined, 'meshgate: the token in huge.txt is larger than 16384 bytes\n'],
      ['-', '', 'meshgate: no token in standard input: it is empty\n'],
    ];
    for (const [file, stdin, err] of cases) {
      const res = await meshgate(['put', 'jira', '--token-file', file], ada, stdin);
      expect(res, file).toEqual({ code: 1, out: '', err });
    }
    expect(await store.status({ tenant: 'acme', principal: 'ada' }, 'jira')).toBeNull();
  });

  it('explains refusals and an unreachable ingress with exit code 1', async () => {
    const refused = await meshgate(['status', 'github'], 'mgk_0123456789abcdef_nope');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^meshgate: GET \/admin\/v1\/upstream-tokens\/github: 401 /);
    const port = await freePort();
    const down = await meshgate(
      ['put', 'github', '--token-file', 'token.txt'],
      ada,
      undefined,
      `http://127.0.0.1:${port}`,
    );
    expect(down.code).toBe(1);
    expect(down.err).toContain('Point --ingress-url or MESHGATE_INGRESS_URL at ingress.');
    expect(down.err).not.toContain(token);
  });
});
