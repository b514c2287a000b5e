/**
 * Authorization in the router (ADR 004) on a NATS of this file's own, with the policy sets, limits and
 * heartbeat written the way the policy service writes them: lists show only what the principal may use;
 * a hidden tool answers exactly like an unknown one, a visible tool denied for its arguments gets -32007;
 * tenants never see each other's policies; a rate limit refuses with -32006 naming the limit; without a
 * fresh heartbeat every call is refused with -32005; a bad policy set leaves the old one in force.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { Subjects, type PolicyHeartbeat, type PolicySetRecord, type SessionInfo } from '@meshgate/contracts';
import { encodePolicyRecord, openPolicyBucket, policySetKey } from '@meshgate/policy';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { eventually, newSession, startHarness, stdioFixture, uniqueName, type Harness } from './harness';

let nats: SpawnedNats;
let h: Harness;
let policies: KV;
let nc: NatsConnection;
let beating: NodeJS.Timeout | undefined;
const server = uniqueName('authz');
const policyBucket = `mg_policies_test_${randomBytes(4).toString('hex')}`;
const limitsBucket = `mg_limits_test_${randomBytes(4).toString('hex')}`;

function record(name: string, text: string): PolicySetRecord {
  return {
    v: 1,
    name,
    text,
    source: 'router test',
    updatedAt: new Date().toISOString(),
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}

const platform = `
@id("agents-list")
permit (principal in Meshgate::Role::"agent", action in [Meshgate::Action::"list_tools", Meshgate::Action::"list_prompts"], resource);
@id("echo-for-agents")
permit (principal in Meshgate::Role::"agent", action == Meshgate::Action::"call_tool", resource == Meshgate::Tool::"${server}/echo");
@id("no-secret-echo")
forbid (principal, action == Meshgate::Action::"call_tool", resource == Meshgate::Tool::"${server}/echo")
when { context.arguments.hasTag("text") && context.arguments.getTag("text") == "secret" };
`;
// Tenant acme adds the prompt for its ops group; tenant globex has no set of its own.
const acme = `
@id("ops-greet")
permit (principal in Meshgate::Group::"acme/ops", action == Meshgate::Action::"get_prompt", resource);
`;

// Tenant umbrella may also call every tool its upstream declares read-only (a policy on annotations).
const umbrella = `
@id("read-only-tools")
permit (principal in Meshgate::Role::"agent", action == Meshgate::Action::"call_tool", resource)
when { context.annotations has readOnlyHint && context.annotations.readOnlyHint };
`;

function session(tenant: string, id: string, groups: string[] = []): SessionInfo {
  return {
    ...newSession({ kind: 'federated' }),
    principal: { tenant, id, kind: 'agent', roles: ['agent'], groups },
  };
}

function heartbeat(): void {
  const beat: PolicyHeartbeat = { v: 1, instance: 'test-policy', revision: 1, time: Date.now() };
  h.bus.publish(Subjects.policyHeartbeat, beat);
}

beforeAll(async () => {
  nats = await spawnNats();
  nc = await connect({ servers: nats.url });
  policies = await openPolicyBucket(nc, policyBucket);
  await policies.put(policySetKey('platform'), encodePolicyRecord(record('platform', platform)));
  await policies.put(policySetKey('acme'), encodePolicyRecord(record('acme', acme)));
  await policies.put(policySetKey('umbrella'), encodePolicyRecord(record('umbrella', umbrella)));
  await policies.put(
    'limits',
    JSON.stringify({
      v: 1,
      rules: [
        {
          id: 'globex-echo',
          match: { tenant: 'globex', tool: 'echo' },
          per: ['principal'],
          requests: { limit: 3, windowS: 60 },
        },
      ],
    }),
  );
  h = await startHarness({
    natsUrl: nats.url,
    policy: { mode: 'enforce', staleMs: 1_000, bucket: policyBucket, limitsBucket },
  });
  heartbeat();
  beating = setInterval(heartbeat, 100);
  // The replica's endpoints answer once its subscriptions reached the server.
  await eventually(async () =>
    h.call(session('acme', 'probe'), 'ping').then(
      (reply) => 'result' in reply.message,
      () => false,
    ),
  );
  await h.kv.put(
    server,
    JSON.stringify({
      v: 1,
      definition: stdioFixture(server),
      revision: 1,
      updatedAt: new Date().toISOString(),
    }),
  );
  await eventually(async () => {
    const reply = await h.call(session('acme', 'probe'), 'initialize', {});
    return JSON.stringify(reply.message).includes(`- ${server}`);
  }, 15_000);
}, 60_000);
afterAll(async () => {
  clearInterval(beating);
  await h?.close();
  await nc?.close();
  await nats?.stop();
});

const errorOf = (reply: { message: unknown }) =>
  (reply.message as { error?: { code: number; message: string; data?: unknown } }).error;
const resultOf = (reply: { message: unknown }) =>
  (reply.message as { result?: Record<string, unknown> }).result;

describe('router authorization', () => {
  it('lists only the tools a principal may call', async () => {
    const tools = resultOf(await h.call(session('acme', 'ada'), 'tools/list'))?.['tools'] as {
      name: string;
    }[];
    expect(tools.map((t) => t.name)).toEqual([`${server}__echo`]);
    const prompts = resultOf(await h.call(session('acme', 'ada'), 'prompts/list'))?.['prompts'] as unknown[];
    expect(prompts).toEqual([]);
    const opsPrompts = resultOf(await h.call(session('acme', 'olga', ['ops']), 'prompts/list'))?.[
      'prompts'
    ] as {
      name: string;
    }[];
    expect(opsPrompts.map((p) => p.name)).toEqual([`${server}__greet`]);
  });

  it('keeps tenants apart: another tenant with the same group name gets nothing of acme', async () => {
    const prompts = resultOf(await h.call(session('globex', 'olga', ['ops']), 'prompts/list'))?.['prompts'];
    expect(prompts).toEqual([]);
    const get = errorOf(
      await h.call(session('globex', 'olga', ['ops']), 'prompts/get', {
        name: `${server}__greet`,
        arguments: { who: 'x' },
      }),
    );
    expect(get?.code).toBe(-32602);
    expect(get?.message).toBe(`unknown prompt: ${server}__greet`);
  });

  it("decides on the upstream's tool annotations when a policy in force reads them", async () => {
    const uma = session('umbrella', 'uma');
    // rich is annotated readOnlyHint: true; slow is not annotated.
    const readOnly = await h.call(uma, 'tools/call', { name: `${server}__rich`, arguments: { q: 'a' } });
    expect(resultOf(readOnly)).toBeDefined();
    expect(
      errorOf(await h.call(uma, 'tools/call', { name: `${server}__slow`, arguments: { ms: 1 } })),
    ).toEqual({
      code: -32602,
      message: `unknown tool: ${server}__slow`,
    });
    // Another tenant's policies read no annotations: the same read-only tool stays hidden there.
    expect(
      errorOf(
        await h.call(session('acme', 'ada'), 'tools/call', {
          name: `${server}__wasCancelled`,
          arguments: {},
        }),
      ),
    ).toEqual({ code: -32602, message: `unknown tool: ${server}__wasCancelled` });
  });

  it('answers a hidden tool exactly like an unknown one, and a visible one denied by its arguments with -32007', async () => {
    const s = session('acme', 'ada');
    const hidden = errorOf(
      await h.call(s, 'tools/call', { name: `${server}__rich`, arguments: { q: 'a' } }, { id: 7 }),
    );
    const unknown = errorOf(
      await h.call(
        s,
        'tools/call',
        { name: `${server}__rich`.replace('rich', 'ghost'), arguments: {} },
        { id: 7 },
      ),
    );
    expect(hidden).toEqual({ code: -32602, message: `unknown tool: ${server}__rich` });
    expect(unknown).toEqual({ code: -32602, message: `unknown tool: ${server}__ghost` });
    const denied = errorOf(
      await h.call(s, 'tools/call', { name: `${server}__echo`, arguments: { text: 'secret' } }),
    );
    expect(denied?.code).toBe(-32007);
    expect(denied?.message).not.toContain('forbid');
    const allowed = resultOf(
      await h.call(s, 'tools/call', { name: `${server}__echo`, arguments: { text: 'hi' } }),
    );
    expect(JSON.stringify(allowed)).toContain('hi');
    // A name too long to be judged is not forwarded either: it answers like an unknown tool.
    const long = `${server}__${'e'.repeat(300)}`;
    expect(errorOf(await h.call(s, 'tools/call', { name: long, arguments: {} }))).toEqual({
      code: -32602,
      message: expect.stringMatching(/^unknown tool: /),
    });
  });

  it('refuses calls over a rate limit with -32006 naming the limit and when to retry', async () => {
    const s = session('globex', 'gus');
    const codes: (number | 'ok')[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await h.call(s, 'tools/call', { name: `${server}__echo`, arguments: { text: `n${i}` } });
      codes.push(errorOf(reply)?.code ?? 'ok');
      if (i === 4) expect(errorOf(reply)?.data).toMatchObject({ limit: 'globex-echo', kind: 'requests' });
    }
    expect(codes).toEqual(['ok', 'ok', 'ok', -32006, -32006]);
    // Another principal of the same tenant has a budget of its own.
    expect(
      resultOf(
        await h.call(session('globex', 'gina'), 'tools/call', { name: `${server}__echo`, arguments: {} }),
      ),
    ).toBeDefined();
  });

  it('keeps the old set in force when a bad one is stored', async () => {
    await policies.put(
      policySetKey('platform'),
      encodePolicyRecord(record('platform', 'permit (principal, action, resource) when { context.nope };')),
    );
    await new Promise((r) => setTimeout(r, 300));
    const tools = resultOf(await h.call(session('acme', 'ada'), 'tools/list'))?.['tools'] as {
      name: string;
    }[];
    expect(tools.map((t) => t.name)).toEqual([`${server}__echo`]);
  });

  it('refuses every call while no policy service vouches for the policies, and recovers', async () => {
    clearInterval(beating);
    const s = session('acme', 'ada');
    const refused = await eventually(async () => {
      const e = errorOf(await h.call(s, 'tools/call', { name: `${server}__echo`, arguments: {} }));
      return e?.code === -32005 ? e : false;
    }, 5_000);
    expect(refused.message).toMatch(/^policy unavailable: /);
    expect(errorOf(await h.call(s, 'tools/list'))?.code).toBe(-32005);
    expect(resultOf(await h.call(s, 'ping'))).toEqual({});
    heartbeat();
    beating = setInterval(heartbeat, 100);
    expect(resultOf(await h.call(s, 'tools/call', { name: `${server}__echo`, arguments: {} }))).toBeDefined();
  });
});
