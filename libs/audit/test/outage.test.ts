/**
 * NATS killed mid-run: a spawned nats-server with its own store directory takes 300 events, is killed
 * (SIGKILL), 500 more are published while it is down and land in the spool, then it is restarted on the
 * same port and store directory. The drainer empties the spool and the stream holds every event exactly
 * once, in publication order, with the ids they were published with.
 */
import { afterAll, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { AuditStream, AuditSubjects } from '@meshgate/contracts';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { AuditPublisher } from '../src/publisher';
import { ensureAuditStream } from '../src/stream';
import { sampleEvent, silentLogger, streamIds, uniqueTenant, waitFor } from './helpers';

const storeDir = mkdtempSync(join(tmpdir(), 'mg-audit-nats-'));
const spoolDir = mkdtempSync(join(tmpdir(), 'mg-audit-spool-'));
let server: SpawnedNats | undefined;
let nc: NatsConnection | undefined;

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  rmSync(storeDir, { recursive: true, force: true });
  rmSync(spoolDir, { recursive: true, force: true });
});

async function kill(s: SpawnedNats): Promise<void> {
  const exited = new Promise((resolve) => s.process.once('exit', resolve));
  s.process.kill('SIGKILL');
  await exited;
}

it('spools while NATS is down and drains every event exactly once when it is back', async () => {
  server = await spawnNats({ storeDir });
  const port = server.port;
  nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await ensureAuditStream(await jetstreamManager(nc));
  const publisher = await AuditPublisher.start(
    nc,
    { spoolDir, ackTimeoutMs: 1_000, backoffMinMs: 100, backoffMaxMs: 500, segmentBytes: 32 * 1024 },
    silentLogger,
  );
  const tenant = uniqueTenant();
  const before = Array.from({ length: 300 }, (_, i) => sampleEvent(tenant, i));
  before.forEach((event) => publisher.publish(event));
  await waitFor('300 acks', () => publisher.stats().acked === 300);

  await kill(server);
  const during = Array.from({ length: 500 }, (_, i) => sampleEvent(tenant, 300 + i));
  during.forEach((event) => publisher.publish(event));
  await waitFor('500 spooled', () => publisher.stats().spooled === 500);
  expect(publisher.stats()).toMatchObject({ published: 800, acked: 300, dropped: 0, pending: 500 });
  const segments = () => readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl')).length;
  await waitFor('the spool written in several segments', () => segments() > 1);

  server = await spawnNats({ port, storeDir });
  await waitFor(
    'spool drained',
    () => publisher.stats().pending + publisher.stats().spoolBytes === 0,
    30_000,
  );
  expect(publisher.stats()).toMatchObject({
    published: 800,
    acked: 800,
    spooled: 500,
    dropped: 0,
    spoolBytes: 0,
  });
  expect(readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);

  const info = await (await jetstreamManager(nc)).streams.info(AuditStream);
  const ids = await streamIds(nc, AuditStream, AuditSubjects.tenant(tenant), 800);
  expect([...ids]).toEqual([...before, ...during].map((e) => e.id));
  // Every message stored once: the stream holds exactly the messages that carried the 800 events.
  expect(info.state.messages).toBe(ids.messages);
  await publisher.stop();
}, 60_000);

it('stops within its bound while NATS is down, keeping unacknowledged events for the next run', async () => {
  const down = await spawnNats();
  const conn = await connect({ servers: down.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await ensureAuditStream(await jetstreamManager(conn));
  await kill(down);
  const dir = mkdtempSync(join(tmpdir(), 'mg-audit-spool-'));
  try {
    const publisher = await AuditPublisher.start(
      conn,
      { spoolDir: dir, ackTimeoutMs: 10_000, stopTimeoutMs: 300 },
      silentLogger,
    );
    const tenant = uniqueTenant();
    for (let i = 0; i < 20; i++) publisher.publish(sampleEvent(tenant, i));
    const started = Date.now();
    await publisher.stop();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(publisher.stats()).toMatchObject({ published: 20, acked: 0, spooled: 20, dropped: 0 });
    const next = await AuditPublisher.start(
      conn,
      { spoolDir: dir, ackTimeoutMs: 10_000, stopTimeoutMs: 300 },
      silentLogger,
    );
    expect(next.stats().pending).toBe(20);
    await next.stop();
  } finally {
    await conn.close();
    await down.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
