/**
 * Ingress's audit trail over a real NATS with the fake router: one request-received and one response-sent
 * per answered request (none for ping or notifications) on `mg.audit.default.<kind>`, sharing the agent's
 * trace id, arguments as digest and redacted copy; the counters on /metrics; and fail-closed admission:
 * with a spool already full and no stream to drain it to, new requests get -32005 (HTTP 503) and /readyz
 * is 503. Also the spool directory lock. The NATS is spawned for this file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/nats-core';
import { argumentsDigest, newAuditEvent } from '@meshgate/audit';
import { Bus } from '@meshgate/bus';
import { AuditMessage, AuditStream, DefaultTenant, eventsOf, type AuditEvent } from '@meshgate/contracts';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { start, type IngressHandle } from '../src/service';
import { claimSpoolDir } from '@meshgate/audit';
import { startFakeRouter, type FakeRouter } from './fake-router';
import { openSession, post, request, testConfig, toolCall } from './harness';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

let dir: string;
let nats: SpawnedNats;
let router: FakeRouter;
let bus: Bus;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mg-ingress-audit-'));
  nats = await spawnNats();
  router = await startFakeRouter(nats.url, 'router-one');
  bus = await Bus.connect({ url: nats.url, name: 'audit-trail-test' });
});

afterAll(async () => {
  await bus?.close();
  await router?.stop();
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the audit trail of ingress', () => {
  let ingress: IngressHandle;
  let sub: Subscription;
  const events: AuditEvent[] = [];
  let messages = 0;

  beforeAll(async () => {
    sub = bus.nc.subscribe('mg.audit.>', {
      callback: (_err, msg) => {
        messages++;
        events.push(...eventsOf(AuditMessage.parse(msg.json())));
      },
    });
    ingress = await start(
      testConfig(nats.url, { MESHGATE_AUDIT: 'on', MESHGATE_AUDIT_SPOOL_DIR: join(dir, 'open') }),
    );
  });

  afterAll(async () => {
    await ingress?.stop();
    sub?.unsubscribe();
  });

  it('creates the stream and records each answered request once, with the agent trace id', async () => {
    const s = await openSession(ingress.url);
    const headers = { traceparent: TRACEPARENT };
    const args = { apiKey: 'sk-123', q: 'x' };
    expect((await post(s, toolCall(1, 'echo', args), { headers })).status).toBe(200);
    expect((await post(s, request(2, 'ping'))).status).toBe(200);
    const unknown = await post({ ...s, id: 'A'.repeat(43) }, toolCall(3, 'echo'));
    expect(unknown.status).toBe(404);
    await router.until(() => events.length >= 6);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // In publication order within each kind (the events of one linger period go out grouped by kind).
    const ofKind = (kind: string) =>
      events.filter((e) => e.kind === kind).map((e) => `${e.method}:${e.requestId}`);
    expect(ofKind('request-received')).toEqual(['initialize:0', 'tools/call:1', 'tools/call:3']);
    expect(ofKind('response-sent')).toEqual(['initialize:0', 'tools/call:1', 'tools/call:3']);
    expect(events).toHaveLength(6);
    const call = events.filter((e) => e.requestId === 1 && e.method === 'tools/call');
    expect(call.map((e) => e.traceId)).toEqual([TRACE_ID, TRACE_ID]);
    expect(call[0]).toMatchObject({
      tenant: DefaultTenant,
      service: 'ingress',
      session: s.id,
      target: 'echo',
      arguments: { digest: argumentsDigest(args), redacted: { apiKey: '[redacted]', q: 'x' } },
      clientAddress: '127.0.0.1',
      protocolVersion: '2025-11-25',
    });
    expect(call[1]).toMatchObject({ outcome: 'ok', session: s.id });
    expect(call[1]?.kind === 'response-sent' && call[1].sizeBytes).toBeGreaterThan(20);
    const refused = events.filter((e) => e.requestId === 3);
    expect(refused[1]).toMatchObject({ outcome: 'error', error: { code: -32001 } });
    const initialized = events.find((e) => e.method === 'initialize' && e.kind === 'response-sent');
    expect(initialized).toMatchObject({ session: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    // Every message stored once: the stream holds exactly the messages that carried the six events.
    const info = await (await jetstreamManager(bus.nc)).streams.info(AuditStream);
    expect(info.state.messages).toBe(messages);
  });

  it('reports the trail on /readyz and its counters on /metrics', async () => {
    const ready = await fetch(`${ingress.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', audit: 'publishing' });
    const metrics = await (await fetch(`${ingress.url}/metrics`)).text();
    expect(metrics).toMatch(/^meshgate_ingress_audit_events_published_total [1-9]/m);
    expect(metrics).toMatch(/^meshgate_ingress_audit_events_dropped_total 0$/m);
  });
});

describe('a fail-closed trail without room', () => {
  it('refuses new requests with -32005 and is not ready', async () => {
    const spoolDir = join(dir, 'full');
    const line = JSON.stringify(
      newAuditEvent({
        tenant: DefaultTenant,
        traceId: TRACE_ID,
        service: 'ingress',
        instance: 'x',
        kind: 'cache-miss',
        key: `sha256:${'0'.repeat(64)}`,
      }),
    );
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(
      join(spoolDir, 'seg-000000000001.jsonl'),
      `${line}\n`.repeat(Math.ceil(62_000 / line.length)),
    );
    // The stream exists but takes other subjects: publishes and the drainer fail, the spool stays full.
    const jsm = await jetstreamManager(bus.nc);
    await jsm.streams.delete(AuditStream).catch(() => undefined);
    await jsm.streams.add({ name: AuditStream, subjects: ['elsewhere.>'] });
    const closed = await start(
      testConfig(nats.url, {
        MESHGATE_AUDIT: 'on',
        MESHGATE_AUDIT_MODE: 'fail-closed',
        MESHGATE_AUDIT_SPOOL_DIR: spoolDir,
        MESHGATE_AUDIT_SPOOL_MAX_BYTES: String(64 * 1024),
      }),
    );
    try {
      const res = await post({ base: closed.url, path: '/mcp' }, request(7, 'initialize', {}));
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        jsonrpc: '2.0',
        id: 7,
        error: { code: -32005, message: 'audit trail unavailable' },
      });
      const ready = await fetch(`${closed.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toContain('audit trail unavailable');
    } finally {
      await closed.stop();
      await jsm.streams.delete(AuditStream);
    }
  });
});

describe('the spool directory lock', () => {
  it('gives a second claimant its own directory and hands the first back once released', async () => {
    const base = join(dir, 'locked');
    const first = await claimSpoolDir(base, 'a');
    const second = await claimSpoolDir(base, 'b');
    expect(first.dir).toBe(base);
    expect(second.dir).toBe(`${base}-b`);
    await first.release();
    const third = await claimSpoolDir(base, 'c');
    expect(third.dir).toBe(base);
    await Promise.all([second.release(), third.release()]);
  });

  it('replaces the pid file of a process that is gone', async () => {
    const base = join(dir, 'stale');
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'owner.pid'), '999999999');
    const claim = await claimSpoolDir(base, 'a');
    expect(claim.dir).toBe(base);
    await claim.release();
  });
});
