/**
 * `meshgate policies list|get|put|validate|delete` and `meshgate limits get|put` against a real policy
 * service (started in process on the shared test NATS, with a policy bucket, key bucket and subjects of its
 * own): argument parsing and its usage errors, a bad file shown error by error with its line (or path)
 * while nothing is stored, the tables and --json output, refusals (403, the platform set not deletable)
 * and an unreachable service.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { ApiKeyStore } from '@meshgate/auth';
import { LimitsConfig, subject } from '@meshgate/contracts';
import { loadConfig, PolicySetList, start, type PolicyHandle } from '@meshgate/policy-service';
import { parseCommand, UsageError } from '../src/args';
import { run } from '../src/cli';
import { captureIo } from './io-capture';

const id = randomBytes(5).toString('hex');
const buckets = { policies: `mg_test_policies_${id}`, keys: `mg_test_api_keys_${id}` };
const dir = mkdtempSync(join(tmpdir(), 'mg-cli-policies-'));
let nc: NatsConnection;
let service: PolicyHandle;
let root: string;
let acmeAdmin: string;

beforeAll(async () => {
  const natsUrl = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
  nc = await connect({ servers: natsUrl });
  const keys = await ApiKeyStore.open(nc, { bucket: buckets.keys });
  ({ apiKey: root } = await keys.create({
    tenant: 'default',
    principal: 'root',
    kind: 'user',
    roles: ['platform-admin'],
  }));
  ({ apiKey: acmeAdmin } = await keys.create({
    tenant: 'acme',
    principal: 'alice',
    kind: 'user',
    roles: ['admin'],
  }));
  const config = loadConfig({ NATS_URL: natsUrl, LOG_LEVEL: 'silent', MESHGATE_POLICY_PORT: '0' });
  service = await start({
    ...config,
    bucket: buckets.policies,
    auth: { mode: 'api-key', keysBucket: buckets.keys },
    subjects: { decide: subject('test', id, 'decide'), heartbeat: subject('test', id, 'heartbeat') },
  });
});
afterAll(async () => {
  await service?.stop();
  const kvm = new Kvm(nc);
  for (const b of Object.values(buckets)) await (await kvm.open(b)).destroy().catch(() => false);
  await nc?.drain();
  rmSync(dir, { recursive: true, force: true });
});

async function meshgate(argv: string[], apiKey = root, url?: string, command = 'policies') {
  const io = captureIo();
  const env = { MESHGATE_POLICY_URL: url ?? service.url, MESHGATE_API_KEY: apiKey };
  const code = await run([command, ...argv], { io, env, cwd: dir });
  return { code, out: io.stdout(), err: io.stderr() };
}
const limits = (argv: string[], apiKey = root, url?: string) => meshgate(argv, apiKey, url, 'limits');
function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

describe('meshgate policies parsing', () => {
  const env = { MESHGATE_API_KEY: 'k' };
  it('parses every subcommand, and explains every mistake', () => {
    expect(parseCommand(['policies', 'put', 'acme', '--file', 'a.cedar'], env)).toEqual({
      kind: 'policies-put',
      name: 'acme',
      file: 'a.cedar',
      policyUrl: 'http://127.0.0.1:8083',
      apiKey: 'k',
      json: false,
    });
    expect(parseCommand(['policies', 'list', '--json', '--policy-url', 'http://p:1/'], env)).toMatchObject({
      kind: 'policies-list',
      policyUrl: 'http://p:1',
      json: true,
    });
    const mistakes: [string[], RegExp][] = [
      [['policies'], /needs a subcommand/],
      [['policies', 'show'], /unknown subcommand "policies show"/],
      [['policies', 'get'], /needs the set name/],
      [['policies', 'get', 'Acmé'], /invalid policy set name "Acmé"/],
      [['policies', 'put', 'acme'], /needs --file/],
      [['policies', 'get', 'acme', 'extra'], /unexpected argument "extra"/],
      [['policies', 'delete', 'acme', '--file', 'x'], /Unknown option '--file'/],
      [['policies', 'list', '--policy-url', 'ftp://x'], /--policy-url must be an http\(s\) URL/],
    ];
    for (const [argv, message] of mistakes)
      expect(() => parseCommand(argv, env), argv.join(' ')).toThrow(message);
    expect(() => parseCommand(['policies', 'list'], {})).toThrow(UsageError);
  });
});

describe('meshgate policies', () => {
  it('validates, stores, lists, shows and deletes a set', async () => {
    const text = '@id("agents") permit (principal in Meshgate::Role::"agent", action, resource);\n';
    const checked = await meshgate(['validate', 'acme', '--file', file('acme.cedar', text)]);
    expect(checked).toMatchObject({ code: 0, out: 'policy set acme is valid: 1 policies (agents)\n' });
    const put = await meshgate(['put', 'acme', '--file', 'acme.cedar'], acmeAdmin);
    expect(put.code).toBe(0);
    expect(put.out).toMatch(/^created policy set acme: 1 policies, sha256 [0-9a-f]{12}, revision \d+\n$/);
    expect((await meshgate(['put', 'acme', '--file', 'acme.cedar'])).out).toMatch(
      /^policy set acme is unchanged/,
    );
    expect((await meshgate(['get', 'acme'])).out).toBe(text);

    const table = (await meshgate(['list'])).out.split('\n');
    expect(table[0]).toMatch(/^NAME\s+POLICIES\s+SHA256\s+UPDATED\s+SOURCE$/);
    expect(table.slice(1, 3).map((row) => row.split(/\s+/).slice(0, 2))).toEqual([
      ['acme', '1'],
      ['platform', '1'],
    ]);
    const json = PolicySetList.parse(JSON.parse((await meshgate(['list', '--json'], acmeAdmin)).out));
    expect(json.sets.map((s) => [s.name, s.source])).toEqual([['acme', 'api:acme/alice']]);

    expect(await meshgate(['delete', 'acme'])).toMatchObject({ code: 0, out: 'deleted policy set acme\n' });
    expect((await meshgate(['get', 'acme'])).err).toMatch(/404 no policy set "acme"/);
  });

  it('shows a bad set error by error with its line, and stores nothing', async () => {
    const bad = file(
      'platform.cedar',
      'permit (principal, action, resource);\n\nforbid (principal, action resource);\n',
    );
    const res = await meshgate(['put', 'platform', '--file', bad]);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^platform\.cedar:3:27: unexpected token `resource`/);
    expect(res.err).toMatch(/policy set platform is invalid \(1 error\(s\)\); nothing was stored\n$/);
    expect((await meshgate(['get', 'platform'])).out).toMatch(/agents-use-everything/);
  });

  it('explains refusals, missing files and an unreachable service (exit 1)', async () => {
    const platform = file('ok.cedar', 'permit (principal, action, resource);');
    const forbidden = await meshgate(['put', 'platform', '--file', platform], acmeAdmin);
    expect(forbidden).toMatchObject({ code: 1 });
    expect(forbidden.err).toMatch(/403 principal "acme\/alice" may not manage the platform policy set/);
    expect((await meshgate(['delete', 'platform'])).err).toMatch(
      /409 the platform policy set cannot be deleted/,
    );
    expect((await meshgate(['put', 'acme', '--file', 'missing.cedar'])).err).toMatch(
      /cannot read .*missing\.cedar: ENOENT/,
    );
    const gone = await meshgate(['list'], root, 'http://127.0.0.1:1');
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/Is the policy service running\?/);
  });
});

describe('meshgate limits', () => {
  const rules = [
    { id: 'agent-rate', per: ['principal'], requests: { limit: 100, windowS: 60 } },
    { id: 'fs-concurrency', match: { server: 'fs' }, per: ['tenant'], concurrent: 4 },
    { id: 'acme-daily', match: { tenant: 'acme' }, dailyQuota: 10_000 },
  ];

  it('parses get and put, and explains every mistake', () => {
    const env = { MESHGATE_API_KEY: 'k' };
    expect(parseCommand(['limits', 'put', 'l.json', '--json'], env)).toEqual({
      kind: 'limits-put',
      file: 'l.json',
      policyUrl: 'http://127.0.0.1:8083',
      apiKey: 'k',
      json: true,
    });
    expect(parseCommand(['limits', 'get', '--policy-url', 'http://p:1/'], env)).toMatchObject({
      kind: 'limits-get',
      policyUrl: 'http://p:1',
      json: false,
    });
    const mistakes: [string[], Record<string, string>, RegExp][] = [
      [['limits'], env, /"limits" needs a subcommand: get or put/],
      [['limits', 'delete'], env, /unknown subcommand "limits delete"/],
      [['limits', 'put'], env, /"limits put" needs the file/],
      [['limits', 'put', 'a.json', 'b.json'], env, /unexpected argument "b.json"/],
      [['limits', 'get', 'a.json'], env, /unexpected argument "a.json"/],
      [['limits', 'get', '--file', 'x'], env, /Unknown option '--file'/],
      [['limits', 'get'], {}, /"limits" needs an admin API key/],
    ];
    for (const [argv, vars, message] of mistakes)
      expect(() => parseCommand(argv, vars), argv.join(' ')).toThrow(message);
  });

  it('shows no limits by default, stores a file, and reads it back as a table or JSON', async () => {
    expect(await limits(['get'])).toMatchObject({ code: 0, out: 'no limits: nothing is limited\n' });
    const path = file('limits.json', JSON.stringify({ v: 1, rules }, null, 2));
    const put = await limits(['put', path]);
    expect(put.code).toBe(0);
    expect(put.out).toMatch(/^created the limits: 3 rule\(s\), sha256 [0-9a-f]{12}, revision \d+\n$/);
    expect((await limits(['put', path])).out).toMatch(/^the limits are unchanged \(sha256 [0-9a-f]{12}\)\n$/);

    expect((await limits(['get'])).out.split('\n')).toEqual([
      'ID              MATCH        PER        REQUESTS  CONCURRENT  DAILY',
      'agent-rate      *            principal  100/60s   -           -',
      'fs-concurrency  server=fs    tenant     -         4           -',
      'acme-daily      tenant=acme  -          -         -           10000',
      '',
    ]);
    const json = await limits(['get', '--json']);
    expect(LimitsConfig.parse(JSON.parse(json.out))).toEqual(LimitsConfig.parse({ v: 1, rules }));
  });

  it('shows a bad file issue by issue with its path, and stores nothing', async () => {
    const before = (await limits(['get', '--json'])).out;
    const bad = file(
      'bad-limits.json',
      JSON.stringify({ v: 1, rules: [{ id: 'x', requests: { limit: 0, windowS: 60 } }, { id: 'y' }] }),
    );
    const res = await limits(['put', bad]);
    expect(res.code).toBe(1);
    expect(res.err.split('\n')).toEqual([
      expect.stringMatching(/^bad-limits\.json: rules\.0\.requests\.limit: Too small/),
      'bad-limits.json: rules.1: a rule needs at least one of requests, concurrent, dailyQuota',
      'the limits are invalid (2 issue(s)); nothing was stored',
      '',
    ]);
    const notJson = await limits(['put', file('not.json', '{"v": 1, rules: []}')]);
    expect(notJson.code).toBe(1);
    expect(notJson.err).toMatch(/^not\.json: not JSON: /);
    expect((await limits(['put', 'missing.json'])).err).toMatch(/cannot read .*missing\.json: ENOENT/);
    expect((await limits(['get', '--json'])).out).toBe(before);
  });

  it('explains a refusal and an unreachable service (exit 1)', async () => {
    const forbidden = await limits(['put', file('none.json', '{"v": 1, "rules": []}')], acmeAdmin);
    expect(forbidden.code).toBe(1);
    expect(forbidden.err).toMatch(
      /403 principal "acme\/alice" may not manage the limits \(platform-admin only/,
    );
    const gone = await limits(['get'], root, 'http://127.0.0.1:1');
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/Is the policy service running\?/);
  });
});
