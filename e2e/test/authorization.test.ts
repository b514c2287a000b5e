/**
 * Authentication and authorization end to end (issue 4, point 8): a whole gateway with authentication on,
 * three router replicas, the policy service loading a policy directory (a platform set, one set per tenant
 * and the limits), an OIDC issuer on loopback, and the feature fixture upstream with a concurrency cap.
 * Two tenants and several principals (API keys and JWTs): the OAuth metadata flow an MCP client follows
 * from a 401, insufficient scope, filtered lists, a hidden tool answered as unknown, a call denied by its
 * arguments, tenant isolation, revocation, a rate limit held across the three routers (its accuracy is
 * printed), the upstream concurrency cap, and the policy service down (every call refused).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import { Buckets, SessionRecord } from '@meshgate/contracts';
import { ApiKeyStore, type IssuedKey } from '@meshgate/auth';
import {
  startFeatureServerHttp,
  startIssuer,
  type FeatureHttpServer,
  type IssuerFixture,
} from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

const PUBLIC = 'https://gateway.example.test';
const LATEST = '2025-11-25';
const LIMIT = 100;

let gateway: Gateway;
let fixture: FeatureHttpServer;
let issuer: IssuerFixture;
let dir: string;
let store: ApiKeyStore;
let nc: NatsConnection;
const keys: Record<'ada' | 'bob' | 'carl' | 'lim', IssuedKey> = {} as never;

const platform = `
@id("agents-list")
permit (principal in Meshgate::Role::"agent", action in [Meshgate::Action::"list_tools", Meshgate::Action::"list_prompts", Meshgate::Action::"list_resources"], resource);
@id("agents-basic-tools")
permit (principal in Meshgate::Role::"agent", action == Meshgate::Action::"call_tool", resource)
when { resource.name == "echo" || resource.name == "slow" || resource.name == "whoami" };
`;
const acme = `
@id("ops-add")
permit (principal in Meshgate::Group::"acme/ops", action == Meshgate::Action::"call_tool", resource == Meshgate::Tool::"fx/add");
@id("no-big-sums")
forbid (principal, action == Meshgate::Action::"call_tool", resource == Meshgate::Tool::"fx/add")
when { context.argumentNumbers.hasTag("a") && context.argumentNumbers.getTag("a") > 100 };
`;
const limits = {
  v: 1,
  rules: [
    {
      id: 'echo-per-minute',
      match: { tool: 'echo' },
      per: ['principal'],
      requests: { limit: LIMIT, windowS: 60 },
    },
  ],
};

/** One MCP session over raw HTTP: what an MCP client sends and sees. */
class Session {
  private nextId = 1;
  constructor(
    readonly url: string,
    readonly auth: string,
    readonly id: string,
  ) {}

  static async open(url: string, auth: string): Promise<Session> {
    const res = await post(url, auth, undefined, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LATEST, capabilities: {}, clientInfo: { name: 'authz-e2e', version: '1' } },
    });
    if (res.status !== 200) throw new Error(`initialize: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    return new Session(url, auth, res.headers.get('mcp-session-id')!);
  }

  async call(
    method: string,
    params: Record<string, unknown> = {},
  ): Promise<{
    result?: Record<string, unknown>;
    error?: { code: number; message: string; data?: unknown };
  }> {
    const res = await post(this.url, this.auth, this.id, {
      jsonrpc: '2.0',
      id: this.nextId++,
      method,
      params,
    });
    const text = await res.text();
    if (res.status !== 200) return { error: { code: res.status, message: text } };
    const json = text.startsWith('{')
      ? text
      : (/^data: (.*)$/m.exec(text.split('\n\n').filter(Boolean).at(-1) ?? '')?.[1] ?? '{}');
    return JSON.parse(json) as never;
  }

  async tools(): Promise<string[]> {
    const out = await this.call('tools/list');
    return ((out.result?.['tools'] ?? []) as { name: string }[]).map((t) => t.name).sort();
  }
}

function post(url: string, auth: string, session: string | undefined, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(auth ? { authorization: auth } : {}),
      ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': LATEST } : {}),
    },
    body: JSON.stringify(body),
  });
}

const bearer = (key: IssuedKey) => `Bearer ${key.apiKey}`;

/**
 * Sessions of `key` on every router replica, by router: each initialize goes to any replica, so sessions
 * are opened until they cover all three (at most 60).
 */
async function sessionsOnEveryRouter(key: IssuedKey): Promise<Map<string, Session>> {
  const kv = await new Kvm(nc).open(Buckets.sessions);
  const byRouter = new Map<string, Session>();
  for (let i = 0; i < 60 && byRouter.size < 3; i++) {
    const s = await Session.open(mcp(), bearer(key));
    byRouter.set(SessionRecord.parse((await kv.get(s.id))?.json()).router, s);
  }
  return byRouter;
}
const token = (claims: Record<string, unknown>) =>
  issuer.sign({ aud: `${PUBLIC}/mcp`, scope: 'mcp', ...claims }).then((t) => `Bearer ${t}`);

beforeAll(async () => {
  [fixture, issuer] = await Promise.all([startFeatureServerHttp(), startIssuer({ discovery: 'oidc' })]);
  dir = mkdtempSync(join(tmpdir(), 'mg-authz-'));
  writeFileSync(join(dir, 'platform.cedar'), platform);
  writeFileSync(join(dir, 'acme.cedar'), acme);
  writeFileSync(join(dir, 'limits.json'), JSON.stringify(limits));
  gateway = await startGateway({
    // fx is capped (2 calls in flight across the routers, 1 queued per router); fr, the same upstream, is not.
    servers: {
      fx: { url: fixture.url, type: 'http', maxConcurrent: 2, maxQueue: 1 },
      fr: { url: fixture.url, type: 'http' },
    },
    auth: true,
    routerReplicas: 3,
    policyDir: dir,
    env: {
      MESHGATE_PUBLIC_URL: PUBLIC,
      MESHGATE_POLICY_STALE_MS: '1500',
      MESHGATE_JWT_ISSUERS: JSON.stringify([
        {
          issuer: issuer.issuer,
          tenant: { claim: 'tenant' },
          groupsClaim: 'groups',
          requiredScopes: ['mcp'],
        },
      ]),
    },
  });
  nc = await connect({ servers: gateway.natsUrl });
  store = await ApiKeyStore.open(nc);
  const agent = (tenant: string, principal: string, groups: string[] = []) =>
    store.create({ tenant, principal, kind: 'agent', roles: ['agent'], groups });
  keys.ada = await agent('acme', 'ada', ['ops']);
  keys.bob = await agent('acme', 'bob');
  keys.carl = await agent('globex', 'carl', ['ops']);
  keys.lim = await agent('acme', 'lim');
}, 90_000);

afterAll(async () => {
  await nc?.close();
  await gateway?.stop();
  await fixture?.close();
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const mcp = () => gateway.mcpUrl().href;

describe('authentication and authorization, end to end', () => {
  it('leads an OAuth client from the 401 to the authorization server, and accepts its token', async () => {
    const refused = await post(mcp(), '', undefined, { jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    await refused.arrayBuffer();
    const metadataUrl = new URL(/resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? 'missing:');
    expect(metadataUrl.href).toBe(`${PUBLIC}/.well-known/oauth-protected-resource/mcp`);
    // Behind the public URL sits this ingress: the same path answers there.
    const metadata = (await (await fetch(new URL(metadataUrl.pathname, mcp()))).json()) as Record<
      string,
      unknown
    >;
    expect(metadata).toMatchObject({ resource: `${PUBLIC}/mcp`, authorization_servers: [issuer.issuer] });
    const as = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(as['jwks_uri']).toBe(issuer.jwksUri);
    const jo = await Session.open(mcp(), await token({ sub: 'jo', tenant: 'acme', groups: ['ops'] }));
    expect(await jo.tools()).toEqual([
      'fr__echo',
      'fr__slow',
      'fr__whoami',
      'fx__add',
      'fx__echo',
      'fx__slow',
      'fx__whoami',
    ]);
    // The agent's token stops at ingress: the upstream sees no Authorization header of it.
    const seen = await jo.call('tools/call', { name: 'fr__whoami', arguments: {} });
    expect(seen.result?.['structuredContent']).toMatchObject({ authorization: null });
    expect(JSON.stringify(seen)).not.toContain(jo.auth.slice(7, 40));
  });

  it('answers a token without the required scope with 403 insufficient_scope naming it', async () => {
    const res = await post(mcp(), await token({ sub: 'jo', tenant: 'acme', scope: 'other' }), undefined, {
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="mcp"/);
    await res.arrayBuffer();
  });

  it('lists only what each principal may use, per tenant and group', async () => {
    const basic = ['fr__echo', 'fr__slow', 'fr__whoami', 'fx__echo', 'fx__slow', 'fx__whoami'];
    // acme's ops group may also add, on fx only (its policy names fx/add).
    expect(await (await Session.open(mcp(), bearer(keys.ada))).tools()).toEqual([...basic, 'fx__add'].sort());
    expect(await (await Session.open(mcp(), bearer(keys.bob))).tools()).toEqual(basic);
    // Same group name in another tenant: acme's policy does not reach it.
    expect(await (await Session.open(mcp(), bearer(keys.carl))).tools()).toEqual(basic);
    const gina = await Session.open(mcp(), await token({ sub: 'gina', tenant: 'globex', groups: ['ops'] }));
    expect(await gina.tools()).toEqual(basic);
  });

  it('answers a hidden tool exactly like an unknown one, and refuses a visible one by its arguments', async () => {
    const bob = await Session.open(mcp(), bearer(keys.bob));
    const hidden = await bob.call('tools/call', { name: 'fx__add', arguments: { a: 1, b: 2 } });
    const unknown = await bob.call('tools/call', { name: 'fx__nothing', arguments: {} });
    expect(hidden.error).toEqual({ code: -32602, message: 'unknown tool: fx__add' });
    expect(unknown.error).toEqual({ code: -32602, message: 'unknown tool: fx__nothing' });
    const ada = await Session.open(mcp(), bearer(keys.ada));
    expect(
      (await ada.call('tools/call', { name: 'fx__add', arguments: { a: 1, b: 2 } })).result,
    ).toBeDefined();
    const big = await ada.call('tools/call', { name: 'fx__add', arguments: { a: 1000, b: 2 } });
    expect(big.error?.code).toBe(-32007);
    expect(big.error?.message).not.toMatch(/forbid|argumentNumbers/);
  });

  it('holds a rate limit of 100 per minute across three router replicas', async () => {
    // Sessions on every one of the three routers, then 130 calls in parallel spread over them.
    const byRouter = await sessionsOnEveryRouter(keys.lim);
    expect(byRouter.size).toBe(3);
    const sessions = [...byRouter.values()];
    const outcomes = await Promise.all(
      Array.from({ length: 130 }, (_, i) =>
        sessions[i % sessions.length]!.call('tools/call', { name: 'fr__echo', arguments: { text: `n${i}` } }),
      ),
    );
    const admitted = outcomes.filter((o) => o.result).length;
    const limited = outcomes.filter((o) => o.error?.code === -32006);
    console.log(
      `limit accuracy: ${admitted} of 130 calls admitted by a limit of ${LIMIT}/min, sessions on ${byRouter.size} of 3 router replicas`,
    );
    const codes = outcomes.map((o) => o.error?.code ?? 'ok');
    expect(codes.filter((c) => c !== 'ok' && c !== -32006)).toEqual([]);
    expect(admitted).toBeGreaterThanOrEqual(95);
    expect(admitted).toBeLessThanOrEqual(105);
    expect(admitted + limited.length).toBe(130);
    expect(limited[0]?.error?.data).toMatchObject({ limit: 'echo-per-minute', kind: 'requests' });
    expect((limited[0]?.error?.data as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
  });

  it('holds the upstream cap (2 in flight) across three router replicas and sheds beyond their queues', async () => {
    // A session on each router, three 400 ms calls from each at once: nine requests meet a cap of two shared
    // by the routers, which also covers their own list fetches. At most two run at once; each router queues
    // one (maxQueue 1) and sheds the rest. Caps per replica would have let up to six run at once.
    const byRouter = await sessionsOnEveryRouter(keys.ada);
    expect(byRouter.size).toBe(3);
    // Every router's connection to fx is up first (requests made while it connects wait outside the queue).
    for (const session of byRouter.values())
      expect(
        (await session.call('tools/call', { name: 'fx__echo', arguments: { text: 'up' } })).result,
      ).toBeDefined();
    fixture.state.resetSlowPeak();
    const outcomes = await Promise.all(
      [...byRouter.values()].flatMap((session, r) =>
        Array.from({ length: 3 }, (_, i) =>
          session.call('tools/call', { name: 'fx__slow', arguments: { ms: 400, tag: `cap-${r}-${i}` } }),
        ),
      ),
    );
    const done = outcomes.filter((o) => o.result).length;
    const shed = outcomes.filter((o) => o.error?.code === -32004);
    console.log(
      `upstream cap: ${done} of 9 calls ran, ${shed.length} shed, at most ${fixture.state.slowPeak()} at once at the upstream (cap 2, 3 router replicas)`,
    );
    expect(fixture.state.slowPeak()).toBe(2);
    expect(done + shed.length).toBe(9);
    expect(shed.length).toBeGreaterThan(0);
    expect(shed[0]?.error?.message).toMatch(/upstream fx overloaded: .*shared by all router replicas/);
  });

  it('stops accepting a revoked key within a second', async () => {
    const bob = await Session.open(mcp(), bearer(keys.bob));
    await store.revoke(keys.bob.record.keyId);
    const revoked = Date.now();
    let status = 200;
    for (let i = 0; i < 40 && status !== 401; i++) {
      const res = await post(mcp(), bob.auth, bob.id, { jsonrpc: '2.0', id: 1, method: 'ping' });
      status = res.status;
      await res.arrayBuffer();
      if (status !== 401) await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe(401);
    expect(Date.now() - revoked).toBeLessThan(1000);
  });

  it('refuses every call once the policy service is down', async () => {
    const ada = await Session.open(mcp(), bearer(keys.ada));
    await gateway.policy.stop();
    let last: Awaited<ReturnType<Session['call']>> = {};
    for (let i = 0; i < 60 && last.error?.code !== -32005; i++) {
      last = await ada.call('tools/call', { name: 'fx__echo', arguments: { text: 'x' } });
      if (last.error?.code !== -32005) await new Promise((r) => setTimeout(r, 100));
    }
    expect(last.error).toMatchObject({ code: -32005, message: expect.stringMatching(/^policy unavailable/) });
    expect((await ada.call('tools/list')).error?.code).toBe(-32005);
  });
});
