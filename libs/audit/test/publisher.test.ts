/**
 * The publisher against a real NATS: 1,000 events reach the stream once each (the test NATS, a tenant of
 * its own); a stream that is missing sends events to the spool, whose bound is kept in both modes; and a
 * new publisher on a spool left by a stopped one drains it. The spool cases use a spawned nats-server, so
 * that the stream can be absent without touching the shared server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { AuditStream, AuditSubjects } from '@meshgate/contracts';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { AuditPublisher } from '../src/publisher';
import { ensureAuditStream } from '../src/stream';
import { sampleEvent, silentLogger, streamIds, uniqueTenant, waitFor } from './helpers';

const dirs: string[] = [];
const spoolDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-audit-spool-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('on the test NATS', () => {
  let nc: NatsConnection;
  const tenant = uniqueTenant();
  beforeAll(async () => {
    nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
    await ensureAuditStream(await jetstreamManager(nc));
  });
  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(AuditStream, { filter: AuditSubjects.tenant(tenant) }).catch(() => undefined);
    await nc.drain();
  });

  it('publishes 1,000 events in batch messages, each id once, without spooling', async () => {
    const publisher = await AuditPublisher.start(nc, { spoolDir: spoolDir(), maxInFlight: 64 }, silentLogger);
    const events = Array.from({ length: 1_000 }, (_, i) => sampleEvent(tenant, i));
    const started = performance.now();
    for (const event of events) publisher.publish(event);
    expect(performance.now() - started).toBeLessThan(1_000); // publish never waits for the stream
    await waitFor('1,000 acks', () => publisher.stats().acked === 1_000);
    expect(publisher.stats()).toMatchObject({
      published: 1_000,
      acked: 1_000,
      spooled: 0,
      dropped: 0,
      pending: 0,
    });
    await publisher.stop();
    const ids = await streamIds(nc, AuditStream, AuditSubjects.tenant(tenant), 1_000);
    expect(new Set(ids).size).toBe(1_000);
    expect([...ids]).toEqual(events.map((e) => e.id)); // one tenant and kind: in publication order
    // Published within one period: at most 256 events a message.
    expect(ids.messages).toBeGreaterThanOrEqual(4);
    expect(ids.messages).toBeLessThan(100);
  });

  it('sends an event alone in its period as the event itself, under its own id', async () => {
    const own = uniqueTenant();
    const publisher = await AuditPublisher.start(nc, { spoolDir: spoolDir(), lingerMs: 0 }, silentLogger);
    const event = sampleEvent(own);
    publisher.publish(event);
    await waitFor('one ack', () => publisher.stats().acked === 1);
    await publisher.stop();
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage(AuditStream, {
      last_by_subj: AuditSubjects.of(own, event.kind),
    });
    expect(stored?.json()).toEqual(event);
    expect(stored?.header?.get('Nats-Msg-Id')).toBe(event.id);
    await jsm.streams.purge(AuditStream, { filter: AuditSubjects.tenant(own) });
  });

  it('builds the events handed as builders when the period ends, and drops a builder that throws', async () => {
    const logLines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void logLines.push(line) });
    const publisher = await AuditPublisher.start(nc, { spoolDir: spoolDir(), lingerMs: 20 }, logger);
    const event = sampleEvent(tenant);
    let built = 0;
    publisher.publish(() => {
      built++;
      return event;
    });
    publisher.publish(() => {
      throw new Error('the builder broke');
    });
    expect(built).toBe(0); // not on the caller's turn
    await waitFor('the built event acked', () => publisher.stats().acked === 1);
    expect(built).toBe(1);
    expect(publisher.stats()).toMatchObject({ published: 2, acked: 1, dropped: 1, pending: 0 });
    expect(
      logLines.filter((line) => line.includes('invalid event') && line.includes('the builder broke')),
    ).toHaveLength(1);
    await publisher.stop();
  });

  it('builds a large period over several turns, in order, and stop() routes what it accepted', async () => {
    const own = uniqueTenant();
    const publisher = await AuditPublisher.start(nc, { spoolDir: spoolDir(), lingerMs: 1_000 }, silentLogger);
    const events = Array.from({ length: 1_300 }, (_, i) => sampleEvent(own, i));
    let built = 0;
    const builder = (event: (typeof events)[number]) => () => {
      built++;
      return event;
    };
    for (const event of events.slice(0, 1_200)) publisher.publish(builder(event));
    // The 512th event ended the period at once; each turn builds at most 512.
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    await nextTurn();
    expect(built).toBe(512);
    await nextTurn();
    expect(built).toBe(1_024);
    for (const event of events.slice(1_200)) publisher.publish(builder(event));
    await publisher.stop(); // what is still accepted is routed before the publisher stops
    expect(built).toBe(1_300);
    expect(publisher.stats()).toMatchObject({ published: 1_300, dropped: 0 });
    const ids = await streamIds(nc, AuditStream, AuditSubjects.tenant(own), 1_300);
    expect([...ids]).toEqual(events.map((e) => e.id));
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(AuditStream, { filter: AuditSubjects.tenant(own) });
  });

  it('drops an invalid event counted and logged, sends the valid ones, and refuses events after stop', async () => {
    const logLines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void logLines.push(line) });
    const publisher = await AuditPublisher.start(nc, { spoolDir: spoolDir() }, logger);
    publisher.publish({ ...sampleEvent(tenant), traceId: 'nope' });
    publisher.publish(sampleEvent(tenant));
    await waitFor('the valid event acked', () => publisher.stats().acked === 1);
    expect(publisher.stats()).toMatchObject({ published: 2, acked: 1, dropped: 1, pending: 0 });
    expect(
      logLines.filter((line) => line.includes('invalid event') && line.includes('traceId')),
    ).toHaveLength(1);
    await publisher.stop();
    expect(() => publisher.publish(sampleEvent(tenant))).toThrow(/stopped/);
  });
});

describe('with the stream missing (spawned nats-server)', () => {
  let server: SpawnedNats;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await spawnNats();
    nc = await connect({ servers: server.url });
  });
  afterEach(async () => {
    await (await jetstreamManager(nc)).streams.delete(AuditStream).catch(() => false);
  });
  afterAll(async () => {
    await nc.drain();
    await server.stop();
  });

  for (const mode of ['fail-open', 'fail-closed'] as const) {
    it(`keeps the spool within its bound when full (${mode}), then drains it`, async () => {
      const tenant = uniqueTenant();
      const dir = spoolDir();
      const opts = {
        spoolDir: dir,
        mode,
        spoolMaxBytes: 24 * 1024,
        segmentBytes: 4 * 1024,
        admissionReserveBytes: 2 * 1024,
      };
      const logLines: string[] = [];
      const logger = pino({ level: 'error' }, { write: (line: string) => void logLines.push(line) });
      const publisher = await AuditPublisher.start(
        nc,
        { ...opts, backoffMinMs: 50, backoffMaxMs: 200 },
        logger,
      );
      expect(publisher.admission()).toBe(true);
      for (let i = 0; i < 200; i++) publisher.publish(sampleEvent(tenant, i));
      await waitFor(
        'every event spooled or dropped',
        () => publisher.stats().spooled + publisher.stats().dropped === 200,
      );
      const full = publisher.stats();
      expect(full.dropped).toBeGreaterThan(0);
      expect(full.spooled).toBeGreaterThan(0);
      expect(full.spoolBytes).toBeLessThanOrEqual(24 * 1024);
      expect(full.pending).toBe(full.spooled);
      expect(logLines.filter((line) => line.includes('spool full')).length).toBe(full.dropped);
      expect(publisher.admission()).toBe(mode === 'fail-open');

      await ensureAuditStream(await jetstreamManager(nc));
      await waitFor('spool drained', () => publisher.stats().pending + publisher.stats().spoolBytes === 0);
      expect(publisher.admission()).toBe(true);
      expect(publisher.stats()).toMatchObject({ acked: full.spooled, spoolBytes: 0, dropped: full.dropped });
      const stored = await streamIds(nc, AuditStream, AuditSubjects.tenant(tenant), full.spooled);
      expect(new Set(stored).size).toBe(full.spooled);
      publisher.publish(sampleEvent(tenant, 200));
      await waitFor('a direct publish again', () => publisher.stats().acked === full.spooled + 1);
      expect(publisher.stats().spooled).toBe(full.spooled);
      await publisher.stop();
    });
  }

  it('hands a non-empty spool over to the next publisher, which drains it', async () => {
    const tenant = uniqueTenant();
    const dir = spoolDir();
    const first = await AuditPublisher.start(nc, { spoolDir: dir }, silentLogger);
    const events = Array.from({ length: 50 }, (_, i) => sampleEvent(tenant, i));
    events.forEach((event) => first.publish(event));
    await waitFor('50 spooled', () => first.stats().spooled === 50);
    await first.stop();
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(0);

    await ensureAuditStream(await jetstreamManager(nc));
    const second = await AuditPublisher.start(nc, { spoolDir: dir, backoffMinMs: 50 }, silentLogger);
    await waitFor('spool drained', () => second.stats().pending + second.stats().spoolBytes === 0);
    expect(second.stats()).toMatchObject({ published: 0, acked: 50, dropped: 0 });
    await second.stop();
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
    expect([...(await streamIds(nc, AuditStream, AuditSubjects.tenant(tenant), 50))]).toEqual(
      events.map((e) => e.id),
    );
  });
});
