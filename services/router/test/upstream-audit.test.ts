/**
 * The router's upstream-call events over a private NATS (so no other project's consumer or stream is
 * touched): one per request relayed upstream for an agent call, with the call's trace id (from the bus
 * headers), the server and the target as the upstream knows it (de-namespaced), latency, size and outcome;
 * none for what the gateway answers itself. Fail-closed without room refuses calls with -32005.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import { AuditMessage, eventsOf, RouterReply, Subjects, type AuditEvent } from '@meshgate/contracts';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { handleCall } from '../src/call-handler';
import type { CallContext } from '../src/call-context';
import { Sessions } from '../src/sessions';
import { newSession, startHarness, stdioFixture, uniqueName, type Harness } from './harness';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

let dir: string;
let nats: SpawnedNats;
let h: Harness;
let sub: Subscription;
const events: AuditEvent[] = [];
const server = uniqueName('aud');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mg-router-audit-'));
  nats = await spawnNats();
  h = await startHarness({
    natsUrl: nats.url,
    audit: {
      enabled: true,
      mode: 'fail-open',
      spoolDir: join(dir, 'spool'),
      spoolMaxBytes: 1024 * 1024,
      lingerMs: 10,
    },
  });
  sub = h.bus.nc.subscribe('mg.audit.>', {
    callback: (_err, msg) => void events.push(...eventsOf(AuditMessage.parse(msg.json()))),
  });
  await h.put(stdioFixture(server));
}, 30_000);

afterAll(async () => {
  sub?.unsubscribe();
  await h?.close();
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('upstream-call events', () => {
  it('reports the state of its trail in $SRV.STATS', async () => {
    const client = new Svcm(h.bus.nc).client();
    const stats = [];
    for await (const s of await client.stats('meshgate-router')) stats.push(s);
    const data = stats.flatMap((s) => s.endpoints ?? []).map((e) => e.data as { audit?: { state?: string } });
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((d) => d.audit?.state === 'publishing')).toBe(true);
  });

  it('records each request relayed for an agent, with the trace id of the call', async () => {
    events.length = 0;
    const session = newSession({ kind: 'federated' });
    const call = (id: number, method: string, params: Record<string, unknown>) =>
      h.bus.request(
        Subjects.routerCall,
        { v: 1, session, message: { jsonrpc: '2.0', id, method, params } },
        RouterReply,
        { timeoutMs: 10_000, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      );
    const echo = await call(1, 'tools/call', { name: `${server}__echo`, arguments: { text: 'hi' } });
    expect('result' in echo.message).toBe(true);
    await call(2, 'initialize', { protocolVersion: '2025-11-25', capabilities: {} });
    await call(3, 'tools/call', { name: 'no-such-tool', arguments: {} });
    for (let i = 0; i < 100 && events.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'upstream-call',
      service: 'router',
      instance: h.router.instanceId,
      traceId: TRACE_ID,
      session: session.id,
      method: 'tools/call',
      requestId: 1,
      server,
      target: 'echo',
      outcome: 'ok',
    });
    if (events[0]?.kind === 'upstream-call') {
      expect(events[0].sizeBytes).toBeGreaterThan(10);
      expect(events[0].latencyMs).toBeGreaterThan(0);
    }
  });

  it('records an upstream error with its code', async () => {
    events.length = 0;
    const session = newSession({ kind: 'server', server });
    await h.call(session, 'tools/call', { name: 'missing', arguments: {} }, { id: 'x-1' });
    for (let i = 0; i < 100 && events.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events[0]).toMatchObject({
      requestId: 'x-1',
      target: 'missing',
      server,
      outcome: 'error',
      error: { code: -32602, message: expect.stringContaining('unknown tool missing') },
    });
  });
});

describe('a fail-closed trail without room', () => {
  it('refuses the call with -32005 and the agent id', async () => {
    const ctx = {
      instanceId: 'r-1',
      sessions: new Sessions(),
      auditAdmits: () => false,
    } as unknown as CallContext;
    const session = newSession({ kind: 'federated' });
    const reply = await handleCall(
      ctx,
      { v: 1, session, message: { jsonrpc: '2.0', id: 9, method: 'tools/list' } },
      { deadline: Date.now() + 1000, traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
    );
    expect(reply).toEqual({
      v: 1,
      router: 'r-1',
      message: { jsonrpc: '2.0', id: 9, error: { code: -32005, message: 'audit trail unavailable' } },
    });
  });
});
