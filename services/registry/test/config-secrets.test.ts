/**
 * Meshgate's extras for upstream credentials and load in the configuration file: `auth` on remote
 * servers, `{env}`/`{file}` secret references (kept as written, never expanded, never resolved here),
 * the concurrency limits, their round trip into the stored catalogue record, and the error for each misuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import { KvServerCatalogue } from '@meshgate/store';
import { ConfigFileError, parseConfigFile } from '../src/config-file';
import { applyServers } from '../src/file-servers';

/** The registry's environment; DB_PASSWORD is only ever named, so it must never appear in a definition. */
const env = { DB_PASSWORD: 'hunter2', CLIENT_ID: 'meshgate-prod', IDP: 'idp.example.com', STAGE: 'prod' };

const yaml = `
mcpServers:
  database:
    command: db-mcp
    env:
      DB_PASSWORD: { env: DB_PASSWORD }
      DB_CERT: { file: /run/secrets/db-cert }
      LITERAL: { file: '/run/secrets/\${STAGE}' }
      env: \${STAGE}
      PORT: 5432
    maxConcurrent: 4
    maxQueue: 0
  search:
    url: https://search.example.com/mcp
    auth:
      type: headers
      headers: { X-Api-Key: { file: /run/secrets/search-key }, X-Tenant: 'tenant-\${STAGE}' }
    queueTimeoutMs: 2500
  crm:
    url: https://crm.example.com/mcp
    type: sse
    auth:
      type: oauth-client-credentials
      tokenUrl: https://\${IDP}/oauth/token
      clientId: \${CLIENT_ID}
      clientSecret: { env: CRM_CLIENT_SECRET }
      scope: crm.read crm.write
      audience: https://crm.example.com
      resource: https://crm.example.com/mcp
`;

const expected = [
  {
    name: 'database',
    transport: 'stdio',
    command: 'db-mcp',
    args: [],
    env: {
      DB_PASSWORD: { env: 'DB_PASSWORD' },
      DB_CERT: { file: '/run/secrets/db-cert' },
      LITERAL: { file: '/run/secrets/${STAGE}' },
      env: 'prod',
      PORT: '5432',
    },
    maxConcurrent: 4,
    maxQueue: 0,
    enabled: true,
    stateful: false,
    timeoutMs: 60_000,
  },
  {
    name: 'search',
    transport: 'streamable-http',
    url: 'https://search.example.com/mcp',
    headers: {},
    auth: {
      type: 'headers',
      headers: { 'X-Api-Key': { file: '/run/secrets/search-key' }, 'X-Tenant': 'tenant-prod' },
    },
    queueTimeoutMs: 2500,
    enabled: true,
    stateful: false,
    timeoutMs: 60_000,
  },
  {
    name: 'crm',
    transport: 'sse',
    url: 'https://crm.example.com/mcp',
    headers: {},
    auth: {
      type: 'oauth-client-credentials',
      tokenUrl: 'https://idp.example.com/oauth/token',
      clientId: 'meshgate-prod',
      clientSecret: { env: 'CRM_CLIENT_SECRET' },
      scope: 'crm.read crm.write',
      audience: 'https://crm.example.com',
      resource: 'https://crm.example.com/mcp',
    },
    enabled: true,
    stateful: false,
    timeoutMs: 60_000,
  },
];

/** The problems the loader reports for the JSON of `servers`, or a failure when it accepts them. */
function problems(servers: Record<string, unknown>): string[] {
  try {
    parseConfigFile('m.json', JSON.stringify({ mcpServers: servers }), env);
  } catch (err) {
    if (err instanceof ConfigFileError) return err.problems;
    throw err;
  }
  throw new Error('the file was accepted');
}

const bucket = `mg_test_registry_secrets_${randomBytes(5).toString('hex')}`;
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
});
afterAll(async () => {
  await (await new Kvm(nc).open(bucket)).destroy();
  await nc.drain();
});

describe('credentials and limits in the configuration file', () => {
  it('keeps {env}/{file} references as written and expands ${VAR} only in plain strings', () => {
    expect(parseConfigFile('meshgate.yaml', yaml, env)).toEqual(expected);
  });

  it('stores the definitions unchanged and without the referenced secrets in clear', async () => {
    const catalogue = await KvServerCatalogue.open(nc, { bucket });
    const definitions = parseConfigFile('meshgate.yaml', yaml, env);
    expect(await applyServers(catalogue, definitions, () => undefined)).toEqual({
      written: ['database', 'search', 'crm'],
      unchanged: [],
    });
    for (const definition of expected)
      expect((await catalogue.get(definition.name))?.definition).toEqual(definition);
    const raw = await (await new Kvm(nc).open(bucket)).get('database');
    expect(raw?.string()).toContain('"DB_PASSWORD":{"env":"DB_PASSWORD"}');
    expect(raw?.string()).not.toContain(env.DB_PASSWORD);
    expect(await applyServers(catalogue, definitions, () => undefined)).toEqual({
      written: [],
      unchanged: ['database', 'search', 'crm'],
    });
  });

  it('refuses auth on a local process and misplaced or malformed secret references', () => {
    expect(
      problems({
        local: { command: 'x', auth: { type: 'headers', headers: { A: 'b' } } },
        relative: { command: 'x', env: { KEY: { file: 'secrets/key' } } },
        badName: { command: 'x', env: { KEY: { env: '1-KEY' } } },
        both: { command: 'x', env: { KEY: { env: 'KEY', file: '/k' } } },
        list: { command: 'x', env: { KEY: ['a'] } },
        plainHeader: { url: 'https://x.example', headers: { Authorization: { env: 'TOKEN' } } },
        authHeader: { url: 'https://x.example', auth: { type: 'headers', headers: { K: { file: 'k' } } } },
      }),
    ).toEqual([
      'm.json: server "local": auth: applies only to remote servers (url)',
      'm.json: server "relative": env.KEY.file: must be an absolute path',
      'm.json: server "badName": env.KEY.env: invalid environment variable name',
      'm.json: server "both": env.KEY: must be text, {env: NAME} or {file: /absolute/path}',
      'm.json: server "list": env.KEY: must be text, {env: NAME} or {file: /absolute/path}',
      'm.json: server "plainHeader": headers.Authorization: must be text (put secret references {env} or {file} under auth.headers)',
      'm.json: server "authHeader": auth.headers.K.file: must be an absolute path',
    ]);
  });

  it('reports bad auth objects and limits field by field', () => {
    const https = 'https://x.example';
    expect(
      problems({
        kind: { url: https, auth: { type: 'basic' } },
        extra: { url: https, auth: { type: 'headers', headers: {}, token: 'x' } },
        oauth: { url: https, auth: { type: 'oauth-client-credentials', tokenUrl: 'ftp://x', clientId: 'c' } },
        secret: {
          url: https,
          auth: { type: 'oauth-client-credentials', tokenUrl: https, clientId: 'c', clientSecret: 7 },
        },
        limits: { command: 'x', maxConcurrent: 0, maxQueue: -1, queueTimeoutMs: 1.5 },
      }),
    ).toEqual([
      `m.json: server "kind": auth.type: Invalid discriminator value. Expected 'headers' | 'oauth-client-credentials' | 'token-exchange' | 'principal-token'`,
      'm.json: server "extra": auth: unknown field "token"',
      'm.json: server "oauth": auth.tokenUrl: Invalid URL',
      'm.json: server "oauth": auth.clientSecret: required (text, {env: NAME} or {file: /absolute/path})',
      'm.json: server "secret": auth.clientSecret: must be text, {env: NAME} or {file: /absolute/path}',
      'm.json: server "limits": maxConcurrent: Too small: expected number to be >=1',
      'm.json: server "limits": maxQueue: Too small: expected number to be >=0',
      'm.json: server "limits": queueTimeoutMs: Invalid input: expected int, received number',
    ]);
  });
});
