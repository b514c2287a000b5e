/**
 * Verification against the embedded archive on a real NATS: an intact chain verifies, concurrent archivers
 * keep it gapless, and each kind of tampering (a changed, removed or inserted record, a forged checkpoint)
 * is found and named by its seq. Tampering goes through JetStream itself, as an attacker with access would.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { JsAuditArchive } from '@meshgate/store';
import { archiveEvent } from '../src/archiver';
import { linkHash } from '../src/chain';
import { signCheckpoint, signingKeyFrom } from '../src/checkpoint';
import { verifyTenant } from '../src/verify';
import { responseSent } from './events';
import { cleanup, isolate, type Isolated } from './nats-fixture';

let nc: NatsConnection;
let jsm: JetStreamManager;
const isolated: Isolated[] = [];
const key = signingKeyFrom(generateKeyPairSync('ed25519').privateKey);

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  for (const iso of isolated) await cleanup(nc, iso);
  await nc.drain();
});

describe('verifyTenant', () => {
  let iso: Isolated;
  let archive: JsAuditArchive;
  const streamSeqOf = async (seq: number) => {
    for (let s = 1; s < 1_000; s++) {
      const m = await jsm.streams.getMessage(iso.archive.stream, { seq: s }).catch(() => null);
      if (m && (JSON.parse(m.string()) as { link: { seq: number } }).link.seq === seq) return m;
    }
    throw new Error(`no record at seq ${seq}`);
  };

  beforeEach(async () => {
    iso = isolate();
    isolated.push(iso);
    archive = await JsAuditArchive.open(nc, iso.archive);
    for (let n = 1; n <= 6; n++) {
      const out = await archiveEvent(archive, responseSent('acme', n));
      expect(out.status).toBe('archived');
      if (n === 3 && out.status === 'archived')
        await archive.putCheckpoint(signCheckpoint(key, { tenant: 'acme', ...out.link }, new Date()));
    }
  });

  it('verifies an intact chain and its checkpoint', async () => {
    const report = await verifyTenant(archive, 'acme', key.publicKey);
    expect(report).toEqual({
      tenant: 'acme',
      ok: true,
      checked: 6,
      headSeq: 6,
      checkpoints: 1,
      firstSeq: 1,
      findings: [],
    });
    expect(await verifyTenant(archive, 'nobody', key.publicKey)).toMatchObject({ ok: true, checked: 0 });
  });

  it('archives each event once, gapless, when archivers race', async () => {
    const events = Array.from({ length: 20 }, (_, n) => responseSent('race', n));
    const outcomes = await Promise.all([...events, ...events].map((e) => archiveEvent(archive, e)));
    expect(outcomes.filter((o) => o.status === 'archived')).toHaveLength(20);
    expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(20);
    const seqs = (await archive.records('race', 1, 100)).map((r) => r.link.seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await verifyTenant(archive, 'race', key.publicKey)).ok).toBe(true);
  });

  it('finds a changed record', async () => {
    const m = await streamSeqOf(4);
    const record = JSON.parse(m.string()) as { event: { latencyMs: number; id: string } };
    record.event.latencyMs = 9_999;
    await jsm.streams.deleteMessage(iso.archive.stream, m.seq);
    await jetstream(nc).publish(m.subject, JSON.stringify(record));
    const report = await verifyTenant(archive, 'acme', key.publicKey);
    expect(report.findings).toEqual([{ seq: 4, eventId: record.event.id, problem: 'changed' }]);
  });

  it('finds a removed record, in the middle and at the end', async () => {
    await jsm.streams.deleteMessage(iso.archive.stream, (await streamSeqOf(2)).seq);
    await jsm.streams.deleteMessage(iso.archive.stream, (await streamSeqOf(6)).seq);
    const report = await verifyTenant(archive, 'acme', key.publicKey);
    expect(report.findings).toEqual([
      { seq: 2, eventId: null, problem: 'removed' },
      { seq: 6, eventId: null, problem: 'removed' },
    ]);
  });

  it('lets retention expire the oldest records, unless a checkpoint proves them too young', async () => {
    for (const seq of [1, 2, 3, 4])
      await jsm.streams.deleteMessage(iso.archive.stream, (await streamSeqOf(seq)).seq);
    const kept = await verifyTenant(archive, 'acme', key.publicKey);
    expect(kept.findings.map((f) => [f.seq, f.problem])).toEqual([1, 2, 3, 4].map((n) => [n, 'removed']));
    // The checkpoint at seq 3 was signed just now: with a day's retention, records 4.. cannot have expired.
    const day = 86_400_000;
    const young = await verifyTenant(archive, 'acme', key.publicKey, { retentionMs: day });
    expect(young).toMatchObject({
      ok: false,
      firstSeq: 5,
      findings: [{ seq: 4, eventId: null, problem: 'removed' }],
    });
    // Two days on, the checkpoint is older than the retention: the prefix expired, the rest verifies.
    const later = await verifyTenant(archive, 'acme', key.publicKey, {
      retentionMs: day,
      now: () => Date.now() + 2 * day,
    });
    expect(later).toMatchObject({ ok: true, firstSeq: 5, checked: 2, headSeq: 6, findings: [] });
  });

  it('finds an inserted record', async () => {
    const genuine = JSON.parse((await streamSeqOf(3)).string()) as { link: { prevHash: string } };
    const forged = responseSent('acme', 42);
    const link = { seq: 3, prevHash: genuine.link.prevHash, hash: '' };
    link.hash = linkHash(link.prevHash, forged);
    await jetstream(nc).publish(
      `${iso.archive.subjectPrefix}.acme.${forged.id}`,
      JSON.stringify({ v: 1, event: forged, link }),
    );
    const report = await verifyTenant(archive, 'acme', key.publicKey);
    expect(report.findings).toEqual([{ seq: 3, eventId: forged.id, problem: 'inserted' }]);
  });

  it('finds a forged checkpoint and one that contradicts the chain', async () => {
    const [cp] = await archive.checkpoints('acme');
    await archive.putCheckpoint({ ...cp!, seq: 5 });
    const other = signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
    const head = await archive.head('acme');
    await archive.putCheckpoint(
      signCheckpoint(other, { tenant: 'acme', seq: 6, hash: head!.hash }, new Date()),
    );
    const rewritten = signCheckpoint(key, { tenant: 'acme', seq: 2, hash: 'c'.repeat(64) }, new Date());
    await archive.putCheckpoint(rewritten);
    const report = await verifyTenant(archive, 'acme', key.publicKey);
    const seq2 = (await archive.records('acme', 2, 1))[0]!;
    expect(report.findings).toEqual([
      { seq: 2, eventId: seq2.event.id, problem: 'changed' },
      { seq: 5, eventId: null, problem: 'bad-checkpoint' },
      { seq: 6, eventId: null, problem: 'bad-checkpoint' },
    ]);
  });
});
