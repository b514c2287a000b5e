/**
 * Servers acting per principal through a whole router replica (policy off, sessions carry their principal):
 * a principal's own upstream token read from the sealed KV store and sent as a bearer or in a named header,
 * a principal without a stored token refused with a clear error, and a token exchange fed by the calls'
 * subject tokens, whose upstream sees the exchanged token and never the agent's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Kvm } from '@nats-io/kv';
import { UpstreamTokenKeyring, UpstreamTokenStore } from '@meshgate/auth';
import { RouterReply, Subjects, type SessionInfo } from '@meshgate/contracts';
import {
  errorOf,
  newSession,
  resultOf,
  startHarness,
  TestPrincipal,
  uniqueName,
  type Harness,
} from './harness';
import { startGuardedUpstream, type GuardedUpstream } from './fixtures/guarded-upstream';
import { startExchangeEndpoint, type ExchangeEndpoint } from './fixtures/exchange-endpoint';

const bucket = `mg_test_upstream_tokens_${randomBytes(5).toString('hex')}`;
const key = randomBytes(32);
const stored = 'ghp_stored-upstream-token';
const agentToken = 'eyJ.agent-jwt.sig';
const bearer = (h: IncomingHttpHeaders) => /^Bearer (.+)$/.exec(h.authorization ?? '')?.[1];

let h: Harness;
let store: UpstreamTokenStore;
let upstream: GuardedUpstream;
let exchange: ExchangeEndpoint;

beforeAll(async () => {
  process.env['MESHGATE_UPSTREAM_TOKEN_KEY'] = key.toString('base64');
  process.env['MESHGATE_UPSTREAM_TOKEN_BUCKET'] = bucket;
  h = await startHarness();
  store = await UpstreamTokenStore.open(h.bus.nc, new UpstreamTokenKeyring(key), { bucket });
  exchange = await startExchangeEndpoint({
    clientId: 'gw',
    clientSecret: 'gw-secret',
    subjects: [agentToken],
  });
  upstream = await startGuardedUpstream({
    authorize: (headers) =>
      bearer(headers) === stored || exchange.valid(bearer(headers)) || headers['x-api-key'] === stored,
  });
});
afterAll(async () => {
  await upstream?.close();
  await exchange?.close();
  if (h) await new Kvm(h.bus.nc).open(bucket).then((b) => b.destroy());
  await h?.close();
  delete process.env['MESHGATE_UPSTREAM_TOKEN_KEY'];
  delete process.env['MESHGATE_UPSTREAM_TOKEN_BUCKET'];
});

function call(session: SessionInfo, subjectToken?: string, tool = 'echo') {
  const message = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } };
  const payload = { v: 1, session, message, ...(subjectToken !== undefined ? { subjectToken } : {}) };
  return h.bus.request(Subjects.routerCall, payload, RouterReply, { timeoutMs: 15_000 });
}
const someoneElse = (s: SessionInfo): SessionInfo => ({
  ...s,
  principal: { ...TestPrincipal, id: 'someone-else' },
});

describe('principal tokens', () => {
  it("sends the principal's stored token as a bearer and refuses a principal without one", async () => {
    const server = uniqueName('ptok');
    await h.put({
      name: server,
      transport: 'streamable-http',
      url: upstream.url,
      auth: { type: 'principal-token' },
    });
    await store.put({ tenant: TestPrincipal.tenant, principal: TestPrincipal.id }, server, stored);
    const seen = upstream.seen.length;
    resultOf(await call(newSession({ kind: 'server', server })));
    const sent = upstream.seen.slice(seen);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((headers) => bearer(headers) === stored)).toBe(true);
    const refused = errorOf(await call(someoneElse(newSession({ kind: 'server', server }))));
    expect(refused.code).toBe(-32001);
    expect(refused.message).toContain(`no upstream token stored for default/someone-else on ${server}`);
  });

  it('sends the bare token in the header the definition names, on the federated endpoint too', async () => {
    const server = uniqueName('ptok-header');
    await h.put({
      name: server,
      transport: 'streamable-http',
      url: upstream.url,
      auth: { type: 'principal-token', header: 'X-Api-Key' },
    });
    await store.put({ tenant: TestPrincipal.tenant, principal: TestPrincipal.id }, server, stored);
    const out = resultOf(await call(newSession({ kind: 'federated' }), undefined, `${server}__echo`));
    expect((out['content'] as { text: string }[])[0]?.text).toBe(stored);
  });
});

describe('token exchange through the router', () => {
  it("exchanges the call's subject token and never sends the agent's token upstream", async () => {
    const server = uniqueName('exch');
    await h.put({
      name: server,
      transport: 'streamable-http',
      url: upstream.url,
      auth: { type: 'token-exchange', tokenUrl: exchange.url, clientId: 'gw', clientSecret: 'gw-secret' },
    });
    const seen = upstream.seen.length;
    resultOf(await call(newSession({ kind: 'server', server }), agentToken));
    const sent = upstream.seen.slice(seen);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((headers) => exchange.valid(bearer(headers)))).toBe(true);
    expect(JSON.stringify(sent)).not.toContain(agentToken);
    expect(exchange.grants.at(-1)?.get('subject_token')).toBe(agentToken);
    const noJwt = errorOf(await call(newSession({ kind: 'server', server })));
    expect(noJwt).toMatchObject({ code: -32001 });
    expect(noJwt.message).toContain('this server needs a token exchange: authenticate with a JWT');
  });

  it('opens no connection for a session without a JWT: federated lists name the server unavailable', async () => {
    const server = uniqueName('exch-fed');
    await h.put({
      name: server,
      transport: 'streamable-http',
      url: upstream.url,
      auth: { type: 'token-exchange', tokenUrl: exchange.url, clientId: 'gw', clientSecret: 'gw-secret' },
    });
    const grants = exchange.grants.length;
    const session = newSession({ kind: 'federated' });
    const message = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const list = resultOf(
      await h.bus.request(Subjects.routerCall, { v: 1, session, message }, RouterReply, {
        timeoutMs: 15_000,
      }),
    );
    expect((list['tools'] as { name: string }[]).some((t) => t.name.startsWith(`${server}__`))).toBe(false);
    expect(list['_meta']).toMatchObject({
      'io.meshgate/unavailable': expect.arrayContaining([
        { server, error: 'this server needs a token exchange: authenticate with a JWT' },
      ]),
    });
    const refused = errorOf(await call(session, undefined, `${server}__echo`));
    expect(refused.message).toContain('authenticate with a JWT');
    // No exchange was even attempted for this session (no connection to a token-exchange server was made).
    expect(exchange.grants.length).toBe(grants);
  });
});
