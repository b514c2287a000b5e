/**
 * Upstream protection end to end over Streamable HTTP: a slow loopback upstream that records how many
 * requests it had in progress at once never sees more than the definition's maxConcurrent, whoever sends
 * (agent calls, list fetches, the connections of several sessions); calls beyond the queue are shed with
 * -32004, queued calls leave on their deadline, queue timeout or cancellation, an expired upstream session
 * with every slot taken still recovers, and an explicit limit holds across three replicas sharing it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { connect as connectNats } from '@nats-io/transport-node';
import { Limiter } from '@meshgate/policy';
import { pino } from 'pino';
import { ServerDefinition, type ServerDefinitionInput } from '@meshgate/contracts';
import { UpstreamConnection, type ConnectionHooks } from '../src/upstream/connection';
import { ConnectionPool } from '../src/upstream/pool';
import { createTransport } from '../src/upstream/transports';
import { UpstreamGate, gateLimits } from '../src/upstream/upstream-gate';
import type { CallOrigin, Outcome } from '../src/upstream/relay-table';
import { startGuardedUpstream, waitFor, type GuardedUpstream } from './fixtures/guarded-upstream';

const log = pino({ level: 'silent' });
const hooks: ConnectionHooks = {
  serverRequest: () => undefined,
  notification: () => undefined,
  reconnected: () => undefined,
  down: () => undefined,
};
let upstream: GuardedUpstream;
const open: UpstreamConnection[] = [];

function definition(extra: Partial<ServerDefinitionInput>): ServerDefinition {
  return ServerDefinition.parse({ name: 'slow', transport: 'streamable-http', url: upstream.url, ...extra });
}

function connect(def: ServerDefinition, gate = new UpstreamGate(def.name, gateLimits(def)), owner?: string) {
  const conn = new UpstreamConnection({
    def,
    owner,
    transports: createTransport,
    hooks,
    log,
    backoffMaxMs: 500,
    version: '1',
    gate,
  });
  open.push(conn);
  conn.start();
  return { conn, gate };
}

const slowCall = (conn: UpstreamConnection, ms: number, timeoutMs = 10_000, origin?: CallOrigin) =>
  conn.request('tools/call', { name: 'echo', arguments: { ms } }, origin, timeoutMs);
const origin = (agentId: number): CallOrigin => ({
  sessionId: 's1',
  agentId,
  stream: undefined,
  traceId: 't',
});
const codes = (outcomes: Outcome[]) => outcomes.map((o) => ('error' in o ? o.error.code : 0));
const calls = () => upstream.methods.filter((m) => m === 'tools/call').length;

beforeAll(async () => {
  upstream = await startGuardedUpstream();
});
beforeEach(() => {
  upstream.resetPeak();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  await upstream.close();
});

describe('upstream concurrency limit', () => {
  it('never lets the upstream see more than maxConcurrent and sheds calls beyond the queue', async () => {
    const { conn, gate } = connect(definition({ maxConcurrent: 4, maxQueue: 10 }));
    await conn.whenReady(5000);
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => slowCall(conn, 100)));
    expect(upstream.maxInProgress()).toBe(4);
    expect(codes(outcomes).filter((c) => c === 0)).toHaveLength(14);
    const shed = outcomes.flatMap((o) => ('error' in o ? [o.error] : []));
    expect(shed).toHaveLength(36);
    for (const e of shed)
      expect(e).toEqual({ code: -32004, message: 'upstream slow overloaded: 4 calls in flight, queue full' });
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0, shed: 36, peakInFlight: 4 });
  });

  it('ends a queued call at its deadline and at queueTimeoutMs, before the upstream sees it', async () => {
    const { conn, gate } = connect(definition({ maxConcurrent: 1, queueTimeoutMs: 150 }));
    await conn.whenReady(5000);
    const before = calls();
    const first = slowCall(conn, 800);
    const deadline = await slowCall(conn, 0, 100);
    expect(deadline).toMatchObject({ error: { code: -32003, message: /no free slot within 100 ms/ } });
    const queueTimeout = await slowCall(conn, 0, 5000);
    expect(queueTimeout).toMatchObject({ error: { code: -32003, message: /no free slot within 150 ms/ } });
    expect(await first).toHaveProperty('result');
    expect(calls() - before).toBe(1);
    expect(gate.stats()).toMatchObject({ queued: 0, inFlight: 0, queueTimeouts: 1, abandoned: 1 });
  });

  it('takes a cancelled call out of the queue without sending it', async () => {
    const { conn, gate } = connect(definition({ maxConcurrent: 1 }));
    await conn.whenReady(5000);
    const before = calls();
    const first = slowCall(conn, 400, 5000, origin(1));
    const queued = slowCall(conn, 0, 5000, origin(2));
    await waitFor(() => gate.stats().queued === 1);
    expect(conn.cancelCall('s1', 2, 'user gave up')).toBe(true);
    expect(await queued).toEqual({ error: { code: -32800, message: 'request cancelled' } });
    expect(gate.stats().queued).toBe(0);
    expect(await first).toHaveProperty('result');
    expect(calls() - before).toBe(1);
  });

  it('makes list fetches wait for a slot like calls', async () => {
    const { conn, gate } = connect(definition({ maxConcurrent: 2 }));
    await conn.whenReady(5000);
    const busy = [slowCall(conn, 300), slowCall(conn, 300)];
    const listed = conn.list('tools', Date.now() + 5000);
    await waitFor(() => gate.stats().queued === 1);
    expect(await listed).toEqual([{ name: 'echo', inputSchema: { type: 'object' } }]);
    expect(codes(await Promise.all(busy))).toEqual([0, 0]);
    expect(gate.stats().peakInFlight).toBe(2);
  });

  it('shares one limit between the connections of every session of a stateful server', async () => {
    const def = definition({ name: 'sessions', stateful: true, maxConcurrent: 3 });
    const pool = new ConnectionPool((d, owner, gate) => connect(d, gate, owner).conn);
    const [a, b] = [pool.connectionFor(def, 's1'), pool.connectionFor(def, 's2')];
    await Promise.all([a.whenReady(5000), b.whenReady(5000)]);
    upstream.resetPeak();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => slowCall(i % 2 === 0 ? a : b, 50)),
    );
    expect(codes(outcomes).every((c) => c === 0)).toBe(true);
    expect(pool.gates.stats()['sessions']).toMatchObject({ peakInFlight: 3, inFlight: 0, admitted: 22 });
    expect(upstream.maxInProgress()).toBe(3);
    await pool.closeAll();
  });

  it('holds an explicit maxConcurrent across router replicas that share the limit state', async () => {
    const bucket = `mg_test_limits_${randomBytes(5).toString('hex')}`;
    const def = definition({ name: 'shared', maxConcurrent: 3, maxQueue: 100 });
    const replicas = await Promise.all(
      ['r1', 'r2', 'r3'].map(async (instance) => {
        const nc = await connectNats({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
        const limiter = await Limiter.start(nc, { bucket, instance, maxBytes: 1024 * 1024 });
        const pool = new ConnectionPool((d, owner, gate) => connect(d, gate, owner).conn, {
          sharedSlots: (server, limit) => limiter.sharedSlots(server, limit),
        });
        return { nc, limiter, pool, conn: pool.sharedFor(def) };
      }),
    );
    try {
      await Promise.all(replicas.map((r) => r.conn.whenReady(5000)));
      upstream.resetPeak();
      const outcomes = await Promise.all(
        replicas.flatMap((r) => Array.from({ length: 8 }, () => slowCall(r.conn, 60))),
      );
      expect(codes(outcomes).every((c) => c === 0)).toBe(true);
      // Three replicas with a per-replica limit would have let up to nine in at once.
      expect(upstream.maxInProgress()).toBe(3);
      for (const r of replicas)
        expect(r.pool.gates.stats()['shared']).toMatchObject({ shared: true, inFlight: 0 });
    } finally {
      for (const r of replicas) {
        await r.pool.closeAll();
        await r.limiter.stop();
      }
      await new Kvm(replicas[0]!.nc)
        .open(bucket)
        .then((kv) => kv.destroy())
        .catch(() => false);
      for (const r of replicas) await r.nc.drain();
    }
  });

  it('keeps queued calls across an expired upstream session, whose re-initialisation gets a slot', async () => {
    // One slot: a parked call that kept it would leave the new initialize waiting until every deadline.
    const { conn, gate } = connect(definition({ maxConcurrent: 1, maxQueue: 10 }));
    await conn.whenReady(5000);
    upstream.forgetSessions();
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => slowCall(conn, 20, 3000)));
    expect(codes(outcomes)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0, shed: 0 });
  });
});
