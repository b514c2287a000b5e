/**
 * Upstream credentials end to end: OAuth client credentials against a loopback token endpoint and an
 * upstream that accepts only the tokens it issued (basic client authentication, caching, renewal before
 * expiry, one renewal and one retry on a 401), header secrets read from files again at every reconnect,
 * missing references as clear connection errors, legacy SSE, stdio environment references, and nothing
 * sent upstream beyond the definition's own headers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import { ServerDefinition, type ServerDefinitionInput } from '@meshgate/contracts';
import { UpstreamConnection, type ConnectionHooks } from '../src/upstream/connection';
import { createTransport } from '../src/upstream/transports';
import type { Outcome } from '../src/upstream/relay-table';
import { startGuardedUpstream } from './fixtures/guarded-upstream';
import { startTokenEndpoint, type TokenEndpointOptions } from './fixtures/token-endpoint';

const log = pino({ level: 'silent' });
const hooks: ConnectionHooks = {
  serverRequest: () => undefined,
  notification: () => undefined,
  reconnected: () => undefined,
  down: () => undefined,
};
const cleanup: (() => Promise<void>)[] = [];
const secret = 's3cr:t +/%&é';

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A variable of this process holding `value`, removed after the test. */
function envVar(value: string): string {
  const name = `MG_TEST_${randomBytes(4).toString('hex').toUpperCase()}`;
  process.env[name] = value;
  cleanup.push(async () => void delete process.env[name]);
  return name;
}

function connect(input: Partial<ServerDefinitionInput>): UpstreamConnection {
  const def = ServerDefinition.parse({
    name: 'guarded',
    transport: 'streamable-http',
    timeoutMs: 5000,
    ...input,
  });
  const conn = new UpstreamConnection({
    def,
    owner: undefined,
    transports: createTransport,
    hooks,
    log,
    backoffMaxMs: 200,
    version: '1',
  });
  cleanup.push(() => conn.stop());
  conn.start();
  return conn;
}

async function oauthSetup(opts: Partial<TokenEndpointOptions> = {}) {
  const tokens = await startTokenEndpoint({
    clientId: 'router',
    clientSecret: secret,
    expiresIn: 3600,
    ...opts,
  });
  cleanup.push(() => tokens.close());
  let accepting = true;
  const bearer = (h: IncomingHttpHeaders) => /^Bearer (.+)$/.exec(h.authorization ?? '')?.[1];
  const upstream = await startGuardedUpstream({ authorize: (h) => accepting && tokens.valid(bearer(h)) });
  cleanup.push(() => upstream.close());
  const auth = {
    type: 'oauth-client-credentials' as const,
    tokenUrl: tokens.url,
    clientId: 'router',
    clientSecret: { env: envVar(secret) },
  };
  return {
    tokens,
    upstream,
    auth,
    refuseAll: () => (accepting = false),
    bearers: () => upstream.seen.map(bearer),
  };
}

const call = (conn: UpstreamConnection) =>
  conn.request('tools/call', { name: 'echo', arguments: {} }, undefined, 5000);
const text = (out: Outcome) =>
  'result' in out ? (out.result['content'] as { text: string }[])[0]?.text : out.error.message;

describe('OAuth client credentials', () => {
  it('gets one token with client_secret_basic, sends it as the bearer and nothing but the definition headers', async () => {
    const { tokens, upstream, auth, bearers } = await oauthSetup();
    const conn = connect({
      url: upstream.url,
      headers: { 'X-Static': 'a' },
      auth: { ...auth, scope: 'tools:call', resource: upstream.url },
    });
    const outcomes = await Promise.all([call(conn), call(conn), call(conn)]);
    expect(outcomes.every((o) => 'result' in o)).toBe(true);
    expect(tokens.grants).toHaveLength(1);
    expect(Object.fromEntries(tokens.grants[0] ?? [])).toEqual({
      grant_type: 'client_credentials',
      scope: 'tools:call',
      resource: upstream.url,
    });
    expect(new Set(bearers())).toEqual(new Set(['tok-1']));
    const allowed = [
      'host',
      'connection',
      'content-type',
      'content-length',
      'accept',
      'authorization',
      'x-static',
    ];
    const protocol = ['mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name'];
    for (const headers of upstream.seen) {
      expect(Object.keys(headers).filter((h) => !allowed.includes(h) && !protocol.includes(h))).toEqual([]);
      expect(headers['x-static']).toBe('a');
    }
  });

  it('renews the token shortly before it expires', async () => {
    const { tokens, upstream, auth, bearers } = await oauthSetup({ expiresIn: 1 });
    const conn = connect({ url: upstream.url, auth });
    expect('result' in (await call(conn))).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect('result' in (await call(conn))).toBe(true);
    expect(tokens.grants).toHaveLength(2);
    expect(bearers().at(-1)).toBe('tok-2');
    expect(upstream.unauthorized()).toBe(0);
  });

  it('answers a 401 with one new token and one retry, never a loop', async () => {
    const { tokens, upstream, auth, refuseAll, bearers } = await oauthSetup();
    const conn = connect({ url: upstream.url, auth });
    expect('result' in (await call(conn))).toBe(true);
    tokens.revoke('tok-1');
    expect('result' in (await call(conn))).toBe(true);
    expect(upstream.unauthorized()).toBe(1);
    expect(tokens.grants).toHaveLength(2);
    expect(bearers().at(-1)).toBe('tok-2');
    refuseAll();
    const refused = await call(conn);
    expect(refused).toMatchObject({ error: { code: -32001, message: /HTTP 401/ } });
    expect(tokens.grants).toHaveLength(3);
    expect(upstream.unauthorized()).toBe(3);
  });

  it('fails the connection with the token endpoint answer when it refuses the client', async () => {
    const { tokens, upstream, auth } = await oauthSetup({ clientSecret: 'another' });
    const conn = connect({ url: upstream.url, auth });
    const out = await call(conn);
    expect(out).toMatchObject({
      error: { code: -32001, message: /token endpoint answered HTTP 401: invalid_client/ },
    });
    expect(JSON.stringify(out)).not.toContain(secret);
    expect(tokens.refused()).toBeGreaterThan(0);
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('header and environment secrets', () => {
  it('reads a secret file again when the connection is re-initialised, so a rotated key is used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mg-secret-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'api-key');
    await writeFile(file, 'key-1\n');
    const upstream = await startGuardedUpstream({ authorize: (h) => h['x-api-key'] !== undefined });
    cleanup.push(() => upstream.close());
    const conn = connect({
      url: upstream.url,
      auth: { type: 'headers', headers: { 'X-Api-Key': { file } } },
    });
    expect(text(await call(conn))).toBe('key-1');
    await writeFile(file, 'key-2\n');
    expect(text(await call(conn))).toBe('key-1');
    upstream.forgetSessions();
    expect(text(await call(conn))).toBe('key-2');
  });

  it('refuses to connect without a referenced variable or file, naming it and no value', async () => {
    const upstream = await startGuardedUpstream();
    cleanup.push(() => upstream.close());
    const missing = `MG_TEST_MISSING_${randomBytes(4).toString('hex').toUpperCase()}`;
    const headers = { 'x-api-key': { env: missing }, 'x-literal': 'literal-secret-value' };
    const out = await call(connect({ url: upstream.url, auth: { type: 'headers', headers } }));
    expect(out).toMatchObject({
      error: {
        code: -32001,
        message: `upstream guarded unavailable: header "x-api-key": environment variable ${missing} is not set or empty`,
      },
    });
    const noFile = await call(
      connect({
        url: upstream.url,
        auth: { type: 'headers', headers: { 'x-api-key': { file: '/nonexistent/mg-key' } } },
      }),
    );
    expect(noFile).toMatchObject({
      error: { message: /secret file \/nonexistent\/mg-key cannot be read \(ENOENT\)/ },
    });
    expect(upstream.seen).toHaveLength(0);
  });

  it('sends header credentials on the legacy SSE stream and its posts', async () => {
    const key = 'sse-key';
    const upstream = await startGuardedUpstream({ authorize: (h) => h['x-api-key'] === key });
    cleanup.push(() => upstream.close());
    const headers = { 'x-api-key': { env: envVar(key) } };
    const conn = connect({ transport: 'sse', url: upstream.sseUrl, auth: { type: 'headers', headers } });
    expect(text(await call(conn))).toBe(key);
    expect(upstream.unauthorized()).toBe(0);
    const wrong = connect({
      transport: 'sse',
      url: upstream.sseUrl,
      auth: { type: 'headers', headers: { 'x-api-key': 'x' } },
    });
    expect(await call(wrong)).toMatchObject({ error: { code: -32001, message: /HTTP 401/ } });
  });

  it('gives a stdio child the variables its references name, resolved at spawn', async () => {
    const script = [
      "const rl = require('readline').createInterface({ input: process.stdin });",
      "rl.on('line', (l) => { const m = JSON.parse(l); if (m.id === undefined) return;",
      "const result = m.method === 'initialize' ? { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'env', version: '1' } }",
      ": { content: [{ type: 'text', text: String(process.env.TOKEN) + '/' + String(process.env.PLAIN) }] };",
      "process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }) + '\\n'); });",
    ].join('\n');
    const stdio = (env: Record<string, unknown>) =>
      connect({
        transport: 'stdio',
        command: process.execPath,
        args: ['-e', script],
        env,
      } as Partial<ServerDefinitionInput>);
    expect(text(await call(stdio({ TOKEN: { env: envVar('from-env') }, PLAIN: 'p' })))).toBe('from-env/p');
    const missing = `MG_TEST_MISSING_${randomBytes(4).toString('hex').toUpperCase()}`;
    expect(await call(stdio({ TOKEN: { env: missing } }))).toMatchObject({
      error: { code: -32001, message: new RegExp(`env "TOKEN": environment variable ${missing} is not set`) },
    });
  });
});
