/**
 * Token exchange (RFC 8693) per principal against a loopback exchange endpoint and an upstream that accepts
 * only the tokens that endpoint issued: the exchange's form and client authentication, the upstream getting
 * the exchanged token and never the agent's, one exchange per agent token (cached), a refreshed agent token
 * exchanged anew, renewal before expiry, one fresh exchange and one retry on a 401, a clear refusal without
 * an agent JWT, and the pool giving such servers a connection per session and no shared one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import { ServerDefinition, type ServerDefinitionInput, type SessionInfo } from '@meshgate/contracts';
import { UpstreamConnection, type ConnectionHooks } from '../src/upstream/connection';
import { createTransport } from '../src/upstream/transports';
import { ConnectionPool } from '../src/upstream/pool';
import { SessionCallers } from '../src/upstream/upstream-caller';
import { NeedsJwtMessage } from '../src/upstream/principal-credentials';
import { startGuardedUpstream } from './fixtures/guarded-upstream';
import { startExchangeEndpoint, type ExchangeEndpointOptions } from './fixtures/exchange-endpoint';
import { newSession } from './harness';

const log = pino({ level: 'silent' });
const hooks: ConnectionHooks = {
  serverRequest: () => undefined,
  notification: () => undefined,
  reconnected: () => undefined,
  down: () => undefined,
};
const cleanup: (() => Promise<void>)[] = [];
const secret = 'exch:secret';
const agentToken = 'eyJhbGciOi.agent-one.sig';
const refreshedToken = 'eyJhbGciOi.agent-two.sig';

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(opts: Partial<ExchangeEndpointOptions> = {}) {
  const exchange = await startExchangeEndpoint({
    clientId: 'router',
    clientSecret: secret,
    subjects: [agentToken, refreshedToken],
    expiresIn: 3600,
    ...opts,
  });
  cleanup.push(() => exchange.close());
  const bearer = (h: IncomingHttpHeaders) => /^Bearer (.+)$/.exec(h.authorization ?? '')?.[1];
  let accepting = true;
  const upstream = await startGuardedUpstream({ authorize: (h) => accepting && exchange.valid(bearer(h)) });
  cleanup.push(() => upstream.close());
  const def = ServerDefinition.parse({
    name: `exch-${randomBytes(3).toString('hex')}`,
    transport: 'streamable-http',
    url: upstream.url,
    timeoutMs: 5000,
    auth: {
      type: 'token-exchange',
      tokenUrl: exchange.url,
      clientId: 'router',
      clientSecret: secret,
      audience: 'upstream-api',
      resource: upstream.url,
      scope: 'tools',
    },
  } satisfies ServerDefinitionInput);
  const callers = new SessionCallers();
  const session = newSession({ kind: 'server', server: def.name });
  const connect = (s: SessionInfo = session) => {
    const conn = new UpstreamConnection({
      def,
      owner: s.id,
      caller: callers.of(s.id),
      transports: createTransport,
      hooks,
      log,
      backoffMaxMs: 200,
      version: '1',
    });
    cleanup.push(() => conn.stop());
    conn.start();
    return conn;
  };
  const refuseAll = () => void (accepting = false);
  return {
    exchange,
    upstream,
    def,
    callers,
    session,
    connect,
    refuseAll,
    bearers: () => upstream.seen.map(bearer),
  };
}

const call = (conn: UpstreamConnection) =>
  conn.request('tools/call', { name: 'echo', arguments: {} }, undefined, 5000);

describe('token exchange', () => {
  it('exchanges the agent token once with client_secret_basic and sends only the exchanged token', async () => {
    const { exchange, upstream, callers, session, connect, bearers } = await setup();
    callers.remember(session, agentToken);
    const conn = connect();
    const outcomes = await Promise.all([call(conn), call(conn), call(conn)]);
    expect(outcomes.every((o) => 'result' in o)).toBe(true);
    expect(exchange.grants).toHaveLength(1);
    expect(Object.fromEntries(exchange.grants[0] ?? [])).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: agentToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'upstream-api',
      resource: upstream.url,
      scope: 'tools',
    });
    expect(new Set(bearers())).toEqual(new Set(['xt-1']));
    expect(exchange.subjectOf('xt-1')).toBe(agentToken);
    for (const headers of upstream.seen) expect(JSON.stringify(headers)).not.toContain(agentToken);
  });

  it('exchanges a refreshed agent token, and renews an exchanged token shortly before it expires', async () => {
    const { exchange, upstream, callers, session, connect, bearers } = await setup({ expiresIn: 1 });
    callers.remember(session, agentToken);
    const conn = connect();
    expect('result' in (await call(conn))).toBe(true);
    callers.remember(session, refreshedToken);
    expect('result' in (await call(conn))).toBe(true);
    expect(exchange.grants.map((g) => g.get('subject_token'))).toEqual([agentToken, refreshedToken]);
    expect(bearers().at(-1)).toBe('xt-2');
    await new Promise((r) => setTimeout(r, 1000));
    expect('result' in (await call(conn))).toBe(true);
    expect(exchange.grants).toHaveLength(3);
    expect(bearers().at(-1)).toBe('xt-3');
    expect(upstream.unauthorized()).toBe(0);
  });

  it('answers a 401 with one fresh exchange and one retry, never a loop', async () => {
    const { exchange, upstream, callers, session, connect, refuseAll, bearers } = await setup();
    callers.remember(session, agentToken);
    const conn = connect();
    expect('result' in (await call(conn))).toBe(true);
    exchange.revoke('xt-1');
    expect('result' in (await call(conn))).toBe(true);
    expect(upstream.unauthorized()).toBe(1);
    expect(exchange.grants).toHaveLength(2);
    expect(bearers().at(-1)).toBe('xt-2');
    refuseAll();
    const seen = upstream.seen.length;
    const refused = await call(conn);
    expect(refused).toMatchObject({ error: { code: -32001, message: /HTTP 401/ } });
    expect(exchange.grants).toHaveLength(3);
    expect(upstream.seen.length - seen).toBe(2);
  });

  it('refuses a principal without an agent JWT, and names the exchange refusal of a bad one', async () => {
    const { exchange, upstream, callers, session, connect } = await setup();
    callers.remember(session, undefined);
    const out = await call(connect());
    expect(out).toMatchObject({ error: { code: -32001, message: new RegExp(NeedsJwtMessage) } });
    const other = newSession({ kind: 'server', server: 'x' });
    callers.remember(other, 'not-a-known-agent-token');
    const bad = await call(connect(other));
    expect(bad).toMatchObject({ error: { message: /token endpoint answered HTTP 400: invalid_grant/ } });
    expect(JSON.stringify(bad)).not.toContain('not-a-known-agent-token');
    expect(exchange.grants).toHaveLength(0);
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('the pool and servers acting per principal', () => {
  it('gives each session its own connection with its own caller, and no shared one', async () => {
    const { def } = await setup();
    const made: { owner: string | undefined; principal: string | undefined }[] = [];
    const pool = new ConnectionPool((d, owner, _gate, caller) => {
      made.push({ owner, principal: caller?.principal()?.id });
      return { server: d.name, owner, stop: () => Promise.resolve() } as unknown as UpstreamConnection;
    });
    const a = newSession({ kind: 'federated' });
    const b = { ...newSession({ kind: 'federated' }), principal: { ...a.principal, id: 'other' } };
    pool.callers.remember(a, agentToken);
    pool.callers.remember(b, refreshedToken);
    expect(pool.connectionFor(def, a.id)).toBe(pool.connectionFor(def, a.id));
    expect(pool.connectionFor(def, a.id)).not.toBe(pool.connectionFor(def, b.id));
    expect(made).toEqual([
      { owner: a.id, principal: 'router-test' },
      { owner: b.id, principal: 'other' },
    ]);
    expect(() => pool.sharedFor(def)).toThrow(/acts per principal/);
    await pool.closeSession(a.id);
    expect(pool.callers.of(a.id).subjectToken()).toBeUndefined();
    expect(pool.callers.of(b.id).subjectToken()).toBe(refreshedToken);
    await pool.closeAll();
  });
});
