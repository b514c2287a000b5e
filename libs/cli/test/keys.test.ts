/**
 * `meshgate keys create|list|rotate|revoke` against the real keys admin API (libs/auth's plugin on a
 * Fastify listening on loopback, keys in a bucket of its own on the shared test NATS): argument parsing
 * and its usage errors, a key's text printed once, the table and --json output, rotation and revocation
 * taking effect, refusals and an unreachable ingress explained with exit code 1.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { adminKeysApi, ApiKeyStore, ApiKeyVerifier } from '@meshgate/auth';
import { ApiKeyList, IssuedApiKey } from '@meshgate/contracts';
import { freePort } from '@meshgate/testing';
import { parseCommand, UsageError } from '../src/args';
import { run } from '../src/cli';
import { keysTable } from '../src/commands/keys';
import { captureIo } from './io-capture';

const bucket = `mg_test_api_keys_${randomBytes(5).toString('hex')}`;
let nc: NatsConnection;
let verifier: ApiKeyVerifier;
let app: FastifyInstance;
let url: string;
let root: string;

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  const store = await ApiKeyStore.open(nc, { bucket });
  ({ apiKey: root } = await store.create({
    tenant: 'default',
    principal: 'root',
    kind: 'user',
    roles: ['platform-admin'],
  }));
  verifier = await ApiKeyVerifier.start(nc, { bucket });
  app = Fastify();
  await app.register(adminKeysApi, { store, verifier });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await verifier?.stop();
  await (await new Kvm(nc).open(bucket)).destroy().catch(() => false);
  await nc?.drain();
});

async function meshgate(argv: string[], apiKey: string | null = root) {
  const io = captureIo();
  const env: Record<string, string> = { MESHGATE_INGRESS_URL: url };
  if (apiKey !== null) env['MESHGATE_API_KEY'] = apiKey;
  const code = await run(['keys', ...argv], { io, env, cwd: '/' });
  return { code, out: io.stdout(), err: io.stderr() };
}
const keyOf = (out: string) => /API key \(shown once, keep it secret\): (mgk_\S+)/.exec(out)?.[1] ?? '';

describe('meshgate keys parsing', () => {
  const env = { MESHGATE_API_KEY: 'k' };

  it('builds commands with defaults', () => {
    expect(
      parseCommand(['keys', 'create', '--tenant', 'acme', '--principal', 'bot', '--role', 'agent'], env),
    ).toEqual({
      kind: 'keys-create',
      ingressUrl: 'http://127.0.0.1:8080',
      apiKey: 'k',
      json: false,
      request: { tenant: 'acme', principal: 'bot', kind: 'user', roles: ['agent'], groups: [] },
    });
    expect(
      parseCommand(
        [
          'keys',
          'rotate',
          '0123456789abcdef',
          '--grace-seconds',
          '60',
          '--ingress-url',
          'http://h:1/',
          '--json',
        ],
        { MESHGATE_API_KEY: 'from-env' },
      ),
    ).toEqual({
      kind: 'keys-rotate',
      ingressUrl: 'http://h:1',
      apiKey: 'from-env',
      json: true,
      keyId: '0123456789abcdef',
      options: { graceSeconds: 60 },
    });
    expect(parseCommand(['keys', 'list', '--api-key', 'flag'], env)).toMatchObject({ apiKey: 'flag' });
  });

  it('turns every mistake into a usage error that says what to type', () => {
    const usage = (argv: string[], message: string | RegExp, e: Record<string, string> = env) =>
      expect(() => parseCommand(['keys', ...argv], e), argv.join(' ')).toThrow(
        typeof message === 'string' ? new UsageError(message) : message,
      );
    usage([], '"keys" needs a subcommand: create, list, rotate or revoke');
    usage(['purge'], 'unknown subcommand "keys purge"');
    usage(
      ['list'],
      '"keys" needs an admin API key: --api-key or MESHGATE_API_KEY ("meshgate start" prints one on its first run)',
      {},
    );
    usage(['create', '--principal', 'bot', '--role', 'agent'], '"keys create" needs --tenant');
    usage(['create', '--tenant', 'acme', '--principal', 'bot'], '"keys create" needs --role');
    usage(['create', '--tenant', 'acme', '--principal', 'bot', '--role', 'root'], /^invalid --role: /);
    usage(['create', '--tenant', 'acme', '--principal', 'bоt', '--role', 'agent'], /^invalid --principal: /);
    usage(
      ['create', '--tenant', 'acme', '--principal', 'bot', '--role', 'agent', '--kind', 'robot'],
      /^invalid --kind: /,
    );
    usage(
      ['create', '--tenant', 'acme', '--principal', 'bot', '--role', 'agent', '--expires-in-days', '1e3'],
      '--expires-in-days must be a whole number, got "1e3"',
    );
    usage(['list', '--tenant', 'ACME'], /^invalid --tenant "ACME"/);
    usage(['rotate'], '"keys rotate" needs the key id');
    usage(['revoke', 'mgk_0123'], /^invalid key id "mgk_0123"/);
    usage(['revoke', '0123456789abcdef', 'extra'], 'unexpected argument "extra"');
    usage(['rotate', '0123456789abcdef', '--grace-seconds', '9999999'], /^invalid --grace-seconds: /);
    usage(['list', '--ingress-url', 'ftp://x'], '--ingress-url must be an http(s) URL, got "ftp://x"');
  });
});

describe('meshgate keys against the admin API', () => {
  it('creates a key and prints its text once, lists keys without secrets, rotates and revokes', async () => {
    const created = await meshgate([
      'create',
      '--tenant',
      'acme',
      '--principal',
      'ada',
      '--role',
      'admin',
      '--group',
      'ops',
      '--description',
      'acme admin',
    ]);
    expect(created.code).toBe(0);
    const adminKey = keyOf(created.out);
    expect(adminKey).toMatch(/^mgk_/);
    expect(created.out.split(adminKey)).toHaveLength(2);
    expect(created.out).toMatch(
      /^issued key [0-9a-f]{16} for acme\/ada \(user; roles admin; expires never\)\n/,
    );

    const json = await meshgate(
      ['create', '--tenant', 'acme', '--principal', 'bot', '--kind', 'agent', '--role', 'agent', '--json'],
      adminKey,
    );
    expect(json.code).toBe(0);
    const bot = IssuedApiKey.parse(JSON.parse(json.out));
    expect(bot.key).toMatchObject({ tenant: 'acme', principal: 'bot', kind: 'agent', roles: ['agent'] });

    const listed = await meshgate(['list'], adminKey);
    expect(listed.code).toBe(0);
    const lines = listed.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY ID\s+PRINCIPAL\s+KIND\s+ROLES\s+GROUPS\s+STATUS\s+EXPIRES\s+DESCRIPTION$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[1])).toEqual(['ada', 'bot']);
    expect(listed.out).toContain('acme admin');
    expect(listed.out).not.toContain('mgk_');
    const all = ApiKeyList.parse(JSON.parse((await meshgate(['list', '--tenant', 'acme', '--json'])).out));
    expect(all.keys).toHaveLength(2);

    const rotated = await meshgate(['rotate', bot.key.keyId, '--expires-in-days', '7'], adminKey);
    expect(rotated.code).toBe(0);
    expect(rotated.out).toContain(`it replaces key ${bot.key.keyId}, which stops working at `);
    const newBot = keyOf(rotated.out);
    expect(newBot).toMatch(/^mgk_/);
    expect(rotated.out).toMatch(/expires 20\d\d-/);
    expect(verifier.verify(bot.apiKey)).toEqual({ ok: false, reason: 'revoked' });
    expect(verifier.verify(newBot).ok).toBe(true);

    const revokedId = /issued key ([0-9a-f]{16})/.exec(rotated.out)![1]!;
    expect(await meshgate(['revoke', revokedId], adminKey)).toEqual({
      code: 0,
      out: `revoked key ${revokedId} of acme/bot\n`,
      err: '',
    });
    expect(verifier.verify(newBot)).toEqual({ ok: false, reason: 'revoked' });
    const table = await meshgate(['list'], adminKey);
    expect(table.out).toMatch(new RegExp(`${revokedId}.*revoked`));
  });

  it('explains refusals, a bad key and an unreachable ingress with exit code 1', async () => {
    const made = await meshgate(['create', '--tenant', 'globex', '--principal', 'gus', '--role', 'admin']);
    const globexAdmin = keyOf(made.out);
    const escalate = await meshgate(
      ['create', '--tenant', 'globex', '--principal', 'x', '--role', 'platform-admin'],
      globexAdmin,
    );
    expect(escalate).toMatchObject({
      code: 1,
      err: 'meshgate: POST /admin/v1/keys: 403 only a platform-admin key may grant the role platform-admin\n',
    });
    expect(await meshgate(['list', '--tenant', 'acme'], globexAdmin)).toMatchObject({
      code: 1,
      err: expect.stringContaining('403 this key may not manage the keys of tenant "acme"'),
    });
    expect(await meshgate(['list'], 'not-a-key')).toMatchObject({
      code: 1,
      err: 'meshgate: GET /admin/v1/keys: 401 the bearer credential is not a Meshgate API key\n',
    });
    expect(await meshgate(['revoke', '0000000000000000'])).toMatchObject({
      code: 1,
      err: 'meshgate: DELETE /admin/v1/keys/0000000000000000: 404 no API key 0000000000000000\n',
    });
    const down = await meshgate(['list', '--ingress-url', `http://127.0.0.1:${await freePort()}`]);
    expect(down.code).toBe(1);
    expect(down.err).toContain('Point --ingress-url or MESHGATE_INGRESS_URL at ingress.');
  });

  it('prints an empty tenant and grace periods for people', () => {
    expect(keysTable([], 'acme', 0)).toBe('no API keys in tenant "acme"');
    const key = {
      v: 1 as const,
      keyId: '0123456789abcdef',
      tenant: 'acme',
      principal: 'bot',
      kind: 'agent' as const,
      roles: ['agent' as const],
      groups: [],
      createdAt: '2026-11-24T10:00:00.000Z',
      revokedAt: '2026-11-24T10:05:00.000Z',
    };
    expect(keysTable([key], 'acme', Date.parse('2026-11-24T10:01:00Z'))).toContain(
      'active until 2026-11-24T10:05:00.000Z',
    );
    expect(keysTable([key], 'acme', Date.parse('2026-11-24T10:06:00Z'))).toMatch(/\brevoked\b/);
  });
});
