/**
 * The archiver service over a real NATS: events published as the publishers do (grouped by tenant and kind
 * into batch messages, or alone, with the batch or event id as Nats-Msg-Id) for two tenants are archived in per-tenant seq order and verify; a restart mid-run and
 * two replicas at once archive every event exactly once with gapless chains; a claim left by a dead replica
 * is completed; invalid messages, and invalid events of a batch one by one, go to the dead letter; probes
 * and metrics answer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Bus } from '@meshgate/bus';
import type { AuditEvent } from '@meshgate/contracts';
import { JsAuditArchive } from '@meshgate/store';
import { outgoingMessages } from '@meshgate/audit';
import { nextLink } from '../src/chain';
import { loadConfig, type AuditConfig } from '../src/config';
import { INLINE_BYTES } from '../src/reader-pool';
import { start, type AuditHandle } from '../src/service';
import { AuditVerifyReply, AuditVerifySubject } from '../src/verify-endpoint';
import { spawnNats } from '@meshgate/testing';
import { responseSent } from './events';
import { cleanup, isolate, type Isolated } from './nats-fixture';

let nc: NatsConnection;
let bus: Bus;
let dataDir: string;
const isolated: Isolated[] = [];
const running: AuditHandle[] = [];

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  bus = await Bus.connect({ url: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222', name: 'audit-test' });
  dataDir = mkdtempSync(join(tmpdir(), 'mg-audit-'));
});
// The verify endpoint's subject is fixed: replicas of one test must not answer for the next one.
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});
afterAll(async () => {
  for (const iso of isolated) await cleanup(nc, iso);
  await bus.close();
  await nc.drain();
  rmSync(dataDir, { recursive: true, force: true });
});

function configFor(iso: Isolated, env: Record<string, string> = {}): AuditConfig {
  const base = loadConfig({
    NATS_URL: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    LOG_LEVEL: 'silent',
    AUDIT_PORT: '0',
    MESHGATE_AUDIT_DATA_DIR: dataDir,
    ...env,
  });
  return { ...base, ...iso.config, archive: iso.archive };
}

async function startService(iso: Isolated, env: Record<string, string> = {}): Promise<AuditHandle> {
  const h = await start(configFor(iso, env));
  running.push(h);
  return h;
}

/** Publishes `events` as a publisher does in one period: grouped by tenant and kind, batches and singles. */
async function publish(iso: Isolated, events: AuditEvent[]): Promise<void> {
  const js = jetstream(nc);
  await Promise.all(
    outgoingMessages(events, 256 * 1024).map((m) =>
      js.publish(m.subject.replace(/^mg\.audit/, iso.auditPrefix), m.line, { msgID: m.msgId }),
    ),
  );
}

/** Publishes every event as a message of its own (as a publisher does at low rates, and earlier builds). */
async function publishEach(iso: Isolated, events: AuditEvent[]): Promise<void> {
  const js = jetstream(nc);
  await Promise.all(
    events.map((e) =>
      js.publish(`${iso.auditPrefix}.${e.tenant}.${e.kind}`, JSON.stringify(e), { msgID: e.id }),
    ),
  );
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectChain(archive: JsAuditArchive, tenant: string, events: AuditEvent[]): Promise<void> {
  // The head moves before its record is written (claim, write, ack): wait for the records themselves.
  await eventually(async () => (await archive.records(tenant, 1, 10_000)).length === events.length);
  expect((await archive.head(tenant))?.seq).toBe(events.length);
  const records = await archive.records(tenant, 1, 10_000);
  expect(records.map((r) => r.link.seq)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(records.map((r) => r.event.id))).toEqual(new Set(events.map((e) => e.id)));
  const report = await bus.request(AuditVerifySubject, { tenant }, AuditVerifyReply, { timeoutMs: 10_000 });
  expect(report).toMatchObject({ ok: true, checked: events.length, findings: [] });
}

describe('audit service', () => {
  it('archives two tenants in publish order, checkpoints them, and verifies', async () => {
    const iso = isolate();
    isolated.push(iso);
    const h = await startService(iso, { MESHGATE_AUDIT_CHECKPOINT_EVERY: '10' });
    const acme = Array.from({ length: 30 }, (_, n) => responseSent('acme', n));
    const globex = Array.from({ length: 12 }, (_, n) => responseSent('globex', n));
    for (let i = 0; i < 30; i++) await publish(iso, [acme[i]!, ...globex.slice(i, i + 1)]);
    const archive = await JsAuditArchive.open(nc, iso.archive);
    await expectChain(archive, 'acme', acme);
    await expectChain(archive, 'globex', globex);
    expect((await archive.records('acme', 1, 100)).map((r) => r.event.id)).toEqual(acme.map((e) => e.id));
    await eventually(async () => (await archive.checkpoints('acme')).length === 3);
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('meshgate_audit_events_archived_total 42');
    expect(metrics).toContain('meshgate_audit_consumer_lag 0');
    expect(await (await fetch(`${h.url}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  it('archives every event once across a restart mid-run and a redelivered duplicate', async () => {
    const iso = isolate();
    isolated.push(iso);
    const first = await startService(iso);
    const archive = await JsAuditArchive.open(nc, iso.archive);
    const events = Array.from({ length: 150 }, (_, n) => responseSent('acme', n));
    await publishEach(iso, events);
    await eventually(async () => ((await archive.head('acme'))?.seq ?? 0) >= 20);
    await first.stop();
    await startService(iso);
    await expectChain(archive, 'acme', events);
    // The same event again after the stream's duplicate window would have let it through.
    await jetstream(nc).publish(`${iso.auditPrefix}.acme.response-sent`, JSON.stringify(events[5]));
    const jsm = await jetstreamManager(nc);
    await eventually(async () => {
      const info = await jsm.consumers.info(iso.config.stream.name, 'audit-archiver');
      return info.num_pending + info.num_ack_pending === 0 && info.delivered.stream_seq === 151;
    });
    await expectChain(archive, 'acme', events);
  });

  it('archives nothing twice when the consumer delivers acknowledged events anew (its state fell back)', async () => {
    const iso = isolate();
    isolated.push(iso);
    const first = await startService(iso);
    const events = Array.from({ length: 40 }, (_, n) => responseSent('acme', n));
    await publishEach(iso, events);
    const archive = await JsAuditArchive.open(nc, iso.archive);
    await expectChain(archive, 'acme', events);
    await first.stop();
    // As after a server crash that lost the consumer's acknowledgements: every event comes again, first time.
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(iso.config.stream.name, iso.config.consumer.durable);
    const second = await startService(iso);
    await eventually(async () => {
      const info = await jsm.consumers.info(iso.config.stream.name, iso.config.consumer.durable);
      return info.num_pending + info.num_ack_pending === 0 && info.delivered.stream_seq >= events.length;
    });
    await expectChain(archive, 'acme', events);
    expect(await (await fetch(`${second.url}/metrics`)).text()).toMatch(/meshgate_audit_duplicates_total 40/);
  });

  it('shares the consumer between two replicas: every event exactly once, both chains gapless', async () => {
    const iso = isolate();
    isolated.push(iso);
    await Promise.all([startService(iso), startService(iso)]);
    const a = Array.from({ length: 120 }, (_, n) => responseSent('acme', n));
    const b = Array.from({ length: 80 }, (_, n) => responseSent('globex', n));
    await publish(iso, [...a, ...b]);
    const archive = await JsAuditArchive.open(nc, iso.archive);
    await expectChain(archive, 'acme', a);
    await expectChain(archive, 'globex', b);
  });

  it('completes the batch claim of a replica that died between moving the head and writing', async () => {
    const iso = isolate();
    isolated.push(iso);
    const archive = await JsAuditArchive.open(nc, iso.archive);
    const orphans = [responseSent('acme', 0), responseSent('acme', 1), responseSent('acme', 2)];
    const links = [nextLink(null, orphans[0]!)];
    for (const o of orphans.slice(1)) links.push(nextLink(links.at(-1)!, o));
    const claimed = links.map((l, i) => ({ ...l, eventId: orphans[i]!.id }));
    await archive.setHead('acme', { seq: 3, hash: links[2]!.hash, claimed }, 0);
    await startService(iso);
    const later = [responseSent('acme', 3), responseSent('acme', 4)];
    await publish(iso, later);
    // The dead replica's messages come back one by one, out of order.
    await publish(iso, [orphans[1]!]);
    await publish(iso, [orphans[2]!, orphans[0]!]);
    await expectChain(archive, 'acme', [...orphans, ...later]);
    for (const [i, o] of orphans.entries()) expect((await archive.getById(o.id))?.link).toEqual(links[i]);
  });

  it('reports failing archive writes in /readyz and metrics, and archives everything once they work', async () => {
    const iso = isolate();
    isolated.push(iso);
    const h = await startService(iso);
    const jsm = await jetstreamManager(nc);
    const full = await jsm.streams.info(iso.archive.stream);
    // A full store: the archive stream holds one message (of another tenant) and takes no more.
    await jetstream(nc).publish(`${iso.archive.subjectPrefix}.filler.${randomUUID()}`, '{}');
    await jsm.streams.update(iso.archive.stream, { ...full.config, max_msgs: 1, discard: DiscardPolicy.New });
    const events = Array.from({ length: 5 }, (_, n) => responseSent('acme', n));
    await publish(iso, events);
    let problem = '';
    await eventually(async () => {
      const ready = await fetch(`${h.url}/readyz`);
      problem = ready.status === 503 ? await ready.text() : '';
      return problem.includes('archive writes fail since');
    });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(Number(/meshgate_audit_archive_errors_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    await jsm.streams.update(iso.archive.stream, {
      ...full.config,
      max_msgs: -1,
      discard: DiscardPolicy.Old,
    });
    const archive = await JsAuditArchive.open(nc, iso.archive);
    await expectChain(archive, 'acme', events);
    await eventually(async () => (await fetch(`${h.url}/readyz`)).status === 200);
  });

  it('pulls again after its NATS server restarts, and archives what was published meanwhile', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'mg-audit-nats-'));
    let nats = await spawnNats({ storeDir });
    const iso = isolate();
    const h = await start({ ...configFor(iso), natsUrl: nats.url });
    const own = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      const publishOwn = (events: AuditEvent[]) =>
        Promise.all(
          events.map((e) =>
            jetstream(own).publish(`${iso.auditPrefix}.${e.tenant}.${e.kind}`, JSON.stringify(e), {
              msgID: e.id,
            }),
          ),
        );
      const before = Array.from({ length: 20 }, (_, n) => responseSent('acme', n));
      await publishOwn(before);
      const archive = await JsAuditArchive.open(own, iso.archive);
      await eventually(async () => (await archive.records('acme', 1, 100)).length === 20);
      await nats.stop();
      nats = await spawnNats({ port: nats.port, storeDir });
      const after = Array.from({ length: 20 }, (_, n) => responseSent('acme', 20 + n));
      await eventually(async () => {
        try {
          await publishOwn(after);
          return true;
        } catch {
          return false;
        }
      });
      await eventually(async () => (await archive.records('acme', 1, 100)).length === 40, 30_000);
      expect((await archive.records('acme', 1, 100)).map((r) => r.event.id)).toEqual(
        [...before, ...after].map((e) => e.id),
      );
    } finally {
      await h.stop();
      await own.close();
      await nats.stop();
      rmSync(storeDir, { recursive: true, force: true });
    }
  });

  it('sends invalid events to the dead letter and goes on archiving', async () => {
    const iso = isolate();
    isolated.push(iso);
    const h = await startService(iso);
    const js = jetstream(nc);
    await js.publish(`${iso.auditPrefix}.acme.response-sent`, '{ not json');
    await js.publish(`${iso.auditPrefix}.acme.response-sent`, JSON.stringify({ v: 2 }));
    await js.publish(`${iso.auditPrefix}.other.response-sent`, JSON.stringify(responseSent('acme', 9)));
    const good = [responseSent('acme', 1)];
    await publish(iso, good);
    const archive = await JsAuditArchive.open(nc, iso.archive);
    await expectChain(archive, 'acme', good);
    const jsm = await jetstreamManager(nc);
    await eventually(async () => (await jsm.streams.info(iso.config.deadLetter.stream)).state.messages === 3);
    // Messages of different subject tenants are queued apart: their dead letters come in either order.
    const letters = await Promise.all(
      [1, 2, 3].map(async (seq) =>
        JSON.parse((await jsm.streams.getMessage(iso.config.deadLetter.stream, { seq }))!.string()),
      ),
    );
    expect(letters).toContainEqual(
      expect.objectContaining({ v: 1, subject: `${iso.auditPrefix}.other.response-sent` }),
    );
    expect(letters.filter((l) => l.subject === `${iso.auditPrefix}.acme.response-sent`)).toHaveLength(2);
    expect(await (await fetch(`${h.url}/metrics`)).text()).toContain('meshgate_audit_dead_letters_total 3');
    await expect(
      bus.request(AuditVerifySubject, { tenant: 'Bad.Tenant' }, AuditVerifyReply, { timeoutMs: 2_000 }),
    ).rejects.toMatchObject({ code: 400 });
  });

  it('reads large batches on a reader thread and archives every message in delivery order', async () => {
    const iso = isolate();
    isolated.push(iso);
    await startService(iso, { MESHGATE_AUDIT_READER_THREADS: '1' });
    let n = 0;
    const events = (count: number) => Array.from({ length: count }, () => responseSent('acme', ++n));
    const [a, b, c, d] = [events(3), events(150), events(1), events(150)];
    const bBad = [...b.slice(0, 70), { v: 2 }, ...b.slice(70)];
    const messages = [
      { batch: randomUUID(), events: a },
      { batch: randomUUID(), events: bBad },
      c[0]!,
      { batch: randomUUID(), events: d },
    ];
    const js = jetstream(nc);
    const sizes: number[] = [];
    for (const m of messages) {
      const line = JSON.stringify(m);
      sizes.push(Buffer.byteLength(line));
      const msgID = 'batch' in m ? m.batch : m.id;
      await js.publish(`${iso.auditPrefix}.acme.response-sent`, line, { msgID });
    }
    // Two of them are large enough for the reader thread, two are read on the archiving thread.
    expect(sizes.map((size) => size >= INLINE_BYTES)).toEqual([false, true, false, true]);
    const archive = await JsAuditArchive.open(nc, iso.archive);
    await expectChain(archive, 'acme', [...a, ...b, ...c, ...d]);
    const jsm = await jetstreamManager(nc);
    await eventually(async () => (await jsm.streams.info(iso.config.deadLetter.stream)).state.messages === 1);
    const letter = (await jsm.streams.getMessage(iso.config.deadLetter.stream, { seq: 1 }))!.json<{
      index: number;
    }>();
    expect(letter.index).toBe(70);
  });

  it('archives the valid events of a batch and sends each invalid one to the dead letter on its own', async () => {
    const iso = isolate();
    isolated.push(iso);
    const h = await startService(iso);
    const good = [responseSent('acme', 1), responseSent('acme', 2), responseSent('acme', 3)];
    const foreign = responseSent('globex', 4);
    const batch = { batch: randomUUID(), events: [good[0], { v: 2 }, good[1], foreign, good[2]] };
    await jetstream(nc).publish(`${iso.auditPrefix}.acme.response-sent`, JSON.stringify(batch), {
      msgID: batch.batch,
    });
    const archive = await JsAuditArchive.open(nc, iso.archive);
    await expectChain(archive, 'acme', good);
    const jsm = await jetstreamManager(nc);
    await eventually(async () => (await jsm.streams.info(iso.config.deadLetter.stream)).state.messages === 2);
    const letters = await Promise.all(
      [1, 2].map(async (seq) =>
        (await jsm.streams.getMessage(iso.config.deadLetter.stream, { seq }))!.json(),
      ),
    );
    expect(letters.map((l) => (l as { index: number }).index).sort()).toEqual([1, 3]);
    const foreignLetter = letters.find((l) => (l as { index: number }).index === 3) as {
      data: string;
      reason: string;
    };
    expect(JSON.parse(Buffer.from(foreignLetter.data, 'base64').toString())).toEqual(foreign);
    expect(foreignLetter.reason).toMatch(/do not match/);
    expect(await archive.getMany('globex', [foreign.id])).toEqual(new Map());
    expect(await (await fetch(`${h.url}/metrics`)).text()).toContain('meshgate_audit_dead_letters_total 2');
  });
});
