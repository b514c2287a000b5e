/**
 * Two policy replicas started in process through `start()` on the shared test NATS (isolated buckets and
 * subjects): the default platform set on a fresh bucket, a set PUT through one replica decided by both
 * over NATS, a bad set refused with its line while the old one stays in force at both, heartbeats of each
 * replica, `$SRV.STATS`, caller faults, and readiness.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import { Bus, BusError } from '@meshgate/bus';
import { DecisionReply, PolicyHeartbeat, type DecisionRequest } from '@meshgate/contracts';
import { start, type PolicyHandle } from '../src/index';
import { cleanup, configFor, connectNats, isolate, issueKeys, within, type Keys } from './fixtures';

const iso = isolate();
let nc: NatsConnection;
let bus: Bus;
let keys: Keys;
const replicas: PolicyHandle[] = [];
const decideA = `${iso.subjects.decide}-a`;
const decideB = `${iso.subjects.decide}-b`;

beforeAll(async () => {
  nc = await connectNats('policy-service-test');
  bus = await Bus.connect({
    url: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    name: 'policy-service-test-bus',
  });
  keys = await issueKeys(nc, iso);
  replicas.push(await start({ ...configFor(iso, {}, decideA), instanceId: 'policy-a' }));
  replicas.push(await start({ ...configFor(iso, {}, decideB), instanceId: 'policy-b' }));
});
afterAll(async () => {
  for (const r of replicas) await r.stop();
  await bus.close();
  await cleanup(nc, iso);
  await nc.drain();
});

function request(over: Partial<DecisionRequest> = {}): DecisionRequest {
  return {
    v: 1,
    principal: { tenant: 'acme', id: 'bot', kind: 'agent', roles: ['agent'], groups: [] },
    action: 'call_tool',
    resource: { kind: 'tool', server: 'fs', name: 'delete_file' },
    context: { time: Date.now() },
    ...over,
  };
}
const decide = (subject: string, req: DecisionRequest = request()) =>
  bus.request(subject, req, DecisionReply, { timeoutMs: 2_000 });
const put = (handle: PolicyHandle, name: string, text: string) =>
  fetch(`${handle.url}/admin/v1/policies/${name}`, {
    method: 'PUT',
    headers: { authorization: keys.platformAdmin, 'content-type': 'text/plain' },
    body: text,
  });

describe('policy service', () => {
  it('stores the default platform set on a fresh bucket, so agents may use everything', async () => {
    for (const subject of [decideA, decideB])
      expect(await decide(subject)).toMatchObject({
        effect: 'allow',
        policies: ['platform/agents-use-everything'],
      });
    expect(
      (await decide(decideA, request({ principal: { ...request().principal, roles: ['auditor'] } }))).effect,
    ).toBe('deny');
  });

  it('decides a set PUT through one replica at both; a bad set is refused and the old one stays', async () => {
    const [a, b] = replicas as [PolicyHandle, PolicyHandle];
    const text = '@id("no-delete") forbid (principal, action, resource == Meshgate::Tool::"fs/delete_file");';
    expect((await put(a, 'acme', text)).status).toBe(200);
    for (const subject of [decideA, decideB])
      await within(
        2_000,
        `the acme set at ${subject}`,
        async () => (await decide(subject)).effect === 'deny',
      );
    expect(await decide(decideB)).toMatchObject({ policies: ['acme/no-delete'], reason: 'denied by policy' });

    const bad = await put(
      b,
      'acme',
      `${text}\n// a comment\npermit (principal, action, resource) when { context.nope };`,
    );
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ errors: [{ line: 3, policyId: 'policy1' }] });
    const other = await decide(decideA, request({ principal: { ...request().principal, tenant: 'globex' } }));
    expect(other.effect).toBe('allow');
    for (const subject of [decideA, decideB])
      expect((await decide(subject)).policies).toEqual(['acme/no-delete']);
  });

  it('publishes a heartbeat of each replica, and counts its work in $SRV.STATS', async () => {
    const seen = new Map<string, PolicyHeartbeat>();
    const sub = nc.subscribe(iso.subjects.heartbeat, {
      callback: (_err, msg) => {
        const beat = PolicyHeartbeat.parse(msg.json());
        seen.set(beat.instance, beat);
      },
    });
    await within(3_000, 'heartbeats of both replicas', () => seen.size === 2);
    sub.unsubscribe();
    expect(seen.get('policy-a')?.revision).toBeGreaterThan(0);

    const stats = [];
    for await (const s of await new Svcm(nc).client().stats('meshgate-policy'))
      if (['policy-a', 'policy-b'].includes(s.metadata?.['instance'] ?? '')) stats.push(s);
    expect(stats).toHaveLength(2);
    const data = stats[0]?.endpoints?.[0]?.data as {
      sets: number;
      decisions: number;
      cacheHits: number;
      healthy: boolean;
    };
    expect(data).toMatchObject({ sets: 2, healthy: true });
    expect(data.decisions).toBeGreaterThan(0);
  });

  it('answers caller faults with 400 and stays ready', async () => {
    const wrong = decide(decideA, request({ action: 'list_tools' }));
    await expect(wrong).rejects.toThrow(BusError);
    await expect(wrong).rejects.toMatchObject({ code: 400 });
    await expect(bus.request(decideA, { v: 1 }, DecisionReply, { timeoutMs: 2_000 })).rejects.toMatchObject({
      code: 400,
    });
    const ready = await fetch(`${replicas[0]?.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${replicas[0]?.url}/metrics`)).text();
    expect(metrics).toMatch(/meshgate_policy_sync_healthy 1/);
  });
});
