/**
 * The batch archiver against the embedded archive on a real NATS: a batch moves the head once, repeated ids
 * (within a batch or already archived) are duplicates or conflicts, racing archivers keep every chain
 * gapless, a claim whose records were never written is completed by the retry, and events behind another
 * writer's unfinished claim wait instead of forking the chain; a batch is looked up while the one before is
 * written and claimed after it, and a failed write leaves neither a gap nor records out of seq order.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { JsAuditArchive, type AuditArchive } from '@meshgate/store';
import { Archiver } from '../src/archiver';
import { nextLink } from '../src/chain';
import { signingKeyFrom } from '../src/checkpoint';
import { verifyTenant } from '../src/verify';
import { responseSent } from './events';
import { cleanup, isolate, type Isolated } from './nats-fixture';

let nc: NatsConnection;
const isolated: Isolated[] = [];
const key = signingKeyFrom(generateKeyPairSync('ed25519').privateKey);

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
});
afterAll(async () => {
  for (const iso of isolated) await cleanup(nc, iso);
  await nc.drain();
});

/** The archive with its head moves counted, and appends that can be made to fail. */
function instrumented(archive: AuditArchive) {
  const counts = { setHead: 0, append: 0 };
  let failAppends = 0;
  const wrapped: AuditArchive = Object.create(archive) as AuditArchive;
  wrapped.setHead = (...args) => {
    counts.setHead++;
    return archive.setHead(...args);
  };
  wrapped.append = (entries) => {
    counts.append++;
    if (failAppends > 0) {
      failAppends--;
      return Promise.reject(new Error('the archive is unreachable'));
    }
    return archive.append(entries);
  };
  return { archive: wrapped, counts, failNextAppends: (n: number) => (failAppends = n) };
}

describe('Archiver', () => {
  let archive: JsAuditArchive;

  beforeEach(async () => {
    const iso = isolate();
    isolated.push(iso);
    archive = await JsAuditArchive.open(nc, iso.archive);
  });

  const seqsOf = async (tenant: string) => (await archive.records(tenant, 1, 10_000)).map((r) => r.link.seq);

  it('archives a batch in order with one head move, and the next batch after it', async () => {
    const { archive: counted, counts } = instrumented(archive);
    const archiver = new Archiver(counted);
    const first = Array.from({ length: 50 }, (_, n) => responseSent('acme', n));
    const outcomes = await archiver.archiveBatch('acme', first);
    expect(outcomes.map((o) => (o.status === 'archived' ? o.link.seq : o.status))).toEqual(
      first.map((_, i) => i + 1),
    );
    const second = Array.from({ length: 30 }, (_, n) => responseSent('acme', 50 + n));
    await archiver.archiveBatch('acme', second);
    expect(counts.setHead).toBe(2);
    expect((await archive.records('acme', 1, 100)).map((r) => r.event.id)).toEqual(
      [...first, ...second].map((e) => e.id),
    );
    expect(await verifyTenant(archive, 'acme', key.publicKey)).toMatchObject({ ok: true, checked: 80 });
  });

  it('answers repeated ids as duplicates, or as conflicts when the content differs', async () => {
    const archiver = new Archiver(archive);
    const kept = responseSent('acme', 1);
    await archiver.archiveBatch('acme', [kept]);
    const fresh = responseSent('acme', 2);
    const forged = { ...kept, latencyMs: 999 };
    const outcomes = await archiver.archiveBatch('acme', [
      fresh,
      kept,
      forged,
      fresh,
      { ...fresh, sizeBytes: 1 },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'archived',
      'duplicate',
      'conflict',
      'duplicate',
      'conflict',
    ]);
    expect(await seqsOf('acme')).toEqual([1, 2]);
  });

  it('keeps every chain gapless when archivers race with overlapping batches', async () => {
    const events = Array.from({ length: 120 }, (_, n) => responseSent('race', n));
    const archivers = [new Archiver(archive), new Archiver(archive), new Archiver(archive)];
    const runs = await Promise.all(
      archivers.map((a, k) => {
        const mine = events.filter((_, i) => i % 3 !== k);
        return Promise.all([
          a.archiveBatch('race', mine.slice(0, 40)),
          a.archiveBatch('race', mine.slice(40)),
        ]);
      }),
    );
    const outcomes = runs.flat(2);
    expect(outcomes.filter((o) => o.status === 'waiting' || o.status === 'conflict')).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'archived')).toHaveLength(120);
    expect(await seqsOf('race')).toEqual(events.map((_, i) => i + 1));
    expect(await verifyTenant(archive, 'race', key.publicKey)).toMatchObject({ ok: true, checked: 120 });
  });

  it('finds what another replica archived after its own last claim, though it looked without asking', async () => {
    const other = await JsAuditArchive.open(nc, isolated.at(-1)!.archive);
    const { archive: counted, counts } = instrumented(archive);
    const [a, b] = [new Archiver(counted), new Archiver(other)];
    const events = Array.from({ length: 12 }, (_, n) => responseSent('acme', n));
    await a.archiveBatch('acme', events.slice(0, 4));
    await b.archiveBatch('acme', events.slice(4, 8));
    // a's head is its own and settled: its lookup skips asking the store, misses b's records, and its
    // claim then fails on b's head; the retry looks again and finds them.
    const outcomes = await a.archiveBatch('acme', events.slice(4));
    expect(outcomes.map((o) => o.status)).toEqual([
      ...Array(4).fill('duplicate'),
      ...Array(4).fill('archived'),
    ]);
    expect(counts.setHead).toBe(3); // its first batch, the claim that failed, the retry
    expect(await seqsOf('acme')).toEqual(events.map((_, i) => i + 1));
    expect(await verifyTenant(archive, 'acme', key.publicKey)).toMatchObject({ ok: true, checked: 12 });
  });

  it('completes its own claim when the write after it failed', async () => {
    const { archive: flaky, failNextAppends } = instrumented(archive);
    const archiver = new Archiver(flaky);
    const batch = Array.from({ length: 5 }, (_, n) => responseSent('acme', n));
    failNextAppends(1);
    await expect(archiver.archiveBatch('acme', batch)).rejects.toThrow('unreachable');
    expect((await archive.head('acme'))?.seq).toBe(5);
    expect(await seqsOf('acme')).toEqual([]);
    // The redelivery brings the same events, in another order, to another replica.
    const outcomes = await new Archiver(archive).archiveBatch('acme', [...batch].reverse());
    expect(outcomes.map((o) => (o.status === 'archived' ? o.link.seq : o.status))).toEqual([5, 4, 3, 2, 1]);
    expect(await verifyTenant(archive, 'acme', key.publicKey)).toMatchObject({ ok: true, checked: 5 });
  });

  it('waits behind another writer’s unfinished claim instead of forking the chain', async () => {
    const claimedEvent = responseSent('acme', 0);
    const link = nextLink(null, claimedEvent);
    await archive.setHead('acme', { ...link, claimed: [{ ...link, eventId: claimedEvent.id }] }, 0);
    const archiver = new Archiver(archive, { maxAttempts: 3, waitMs: 1 });
    const later = responseSent('acme', 1);
    expect(await archiver.archiveBatch('acme', [later])).toEqual([{ status: 'waiting' }]);
    expect(await seqsOf('acme')).toEqual([]);
    const outcomes = await archiver.archiveBatch('acme', [claimedEvent, later]);
    expect(outcomes.map((o) => o.status)).toEqual(['archived', 'archived']);
    expect(await seqsOf('acme')).toEqual([1, 2]);
  });

  it('writes a fresh claim as one block while no other replica can be handed it, record by record after', async () => {
    const writes: string[] = [];
    const spied: AuditArchive = Object.create(archive) as AuditArchive;
    spied.appendBlock = (entries) => (
      writes.push(`block of ${entries.length}`),
      archive.appendBlock(entries)
    );
    spied.append = (entries) => (writes.push(`${entries.length} records`), archive.append(entries));
    const archiver = new Archiver(spied);
    const soon = Array.from({ length: 3 }, (_, n) => responseSent('acme', n));
    await archiver.archiveBatch('acme', soon, { blockUntil: Date.now() + 60_000 });
    const late = Array.from({ length: 2 }, (_, n) => responseSent('acme', 3 + n));
    await archiver.archiveBatch('acme', late, { blockUntil: Date.now() - 1 });
    expect(writes).toEqual(['block of 3', '2 records']);
    expect(await verifyTenant(archive, 'acme', key.publicKey)).toMatchObject({ ok: true, checked: 5 });
  });

  it('looks the next batch up while the last is written, and claims it once that write is done', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let blocks = 0;
    let lookups = 0;
    const gated: AuditArchive = Object.create(archive) as AuditArchive;
    gated.appendBlock = async (entries) => {
      if (blocks++ === 0) await held; // the first block waits until the second batch is looked up
      return archive.appendBlock(entries);
    };
    gated.getManyEvents = (...args) => {
      lookups++;
      return archive.getManyEvents(...args);
    };
    const archiver = new Archiver(gated);
    const until = { blockUntil: Date.now() + 60_000 };
    const first = Array.from({ length: 4 }, (_, n) => responseSent('acme', n));
    const second = Array.from({ length: 3 }, (_, n) => responseSent('acme', 4 + n));
    const one = archiver.archiveBatch('acme', first, until);
    const two = archiver.archiveBatch('acme', second, until);
    for (let i = 0; i < 200 && lookups < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(lookups).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    // The second batch is not claimed while the first is being written.
    expect((await archive.head('acme'))?.claimed.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
    release();
    const outcomes = [...(await one), ...(await two)];
    expect(outcomes.map((o) => (o.status === 'archived' ? o.link.seq : o.status))).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ]);
    expect((await archive.head('acme'))?.claimed.map((c) => c.seq)).toEqual([5, 6, 7]);
    expect(await seqsOf('acme')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await verifyTenant(archive, 'acme', key.publicKey)).toMatchObject({ ok: true, checked: 7 });
  });

  it('claims nothing past a failed write: the retry completes its claim, the records stay in seq order', async () => {
    let blocks = 0;
    const failing: AuditArchive = Object.create(archive) as AuditArchive;
    failing.appendBlock = async (entries) => {
      if (blocks++ === 0) {
        await new Promise((r) => setTimeout(r, 50)); // the second batch is looked up meanwhile
        throw new Error('the archive is unreachable');
      }
      return archive.appendBlock(entries);
    };
    const archiver = new Archiver(failing, { maxAttempts: 3, waitMs: 1 });
    const until = { blockUntil: Date.now() + 60_000 };
    const first = Array.from({ length: 4 }, (_, n) => responseSent('acme', n));
    const second = Array.from({ length: 3 }, (_, n) => responseSent('acme', 4 + n));
    const [one, two] = await Promise.allSettled([
      archiver.archiveBatch('acme', first, until),
      archiver.archiveBatch('acme', second, until),
    ]);
    expect(one.status).toBe('rejected');
    // The second batch waits behind the unwritten claim rather than taking seqs 5..7 past a gap.
    expect(two.status === 'fulfilled' && two.value.map((o) => o.status)).toEqual(Array(3).fill('waiting'));
    expect(await seqsOf('acme')).toEqual([]);
    // The first batch comes again (a redelivery): it completes its claim at seqs 1..4; then the second.
    const again = await archiver.archiveBatch('acme', first, until);
    expect(again.map((o) => (o.status === 'archived' ? o.link.seq : o.status))).toEqual([1, 2, 3, 4]);
    const next = await archiver.archiveBatch('acme', second, until);
    expect(next.map((o) => (o.status === 'archived' ? o.link.seq : o.status))).toEqual([5, 6, 7]);
    expect(await seqsOf('acme')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await verifyTenant(archive, 'acme', key.publicKey)).toMatchObject({ ok: true, checked: 7 });
  });

  it('refuses a batch larger than a claim or of another tenant', async () => {
    const archiver = new Archiver(archive);
    const many = Array.from({ length: Archiver.maxBatch + 1 }, (_, n) => responseSent('acme', n));
    await expect(archiver.archiveBatch('acme', many)).rejects.toThrow(RangeError);
    await expect(archiver.archiveBatch('acme', [responseSent('globex')])).rejects.toThrow(RangeError);
  });
});
