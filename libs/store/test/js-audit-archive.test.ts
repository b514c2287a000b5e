/**
 * The embedded JetStream audit archive against a real NATS: the conformance suite, on a stream and buckets
 * of its own per test, then what only this adapter promises (unreadable stored records are skipped and
 * reported, and the stream is created with the duplicate window that makes appends idempotent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { JsAuditArchive } from '../src/index';
import { auditEvent, describeAuditArchiveConformance } from './audit-archive.conformance';
import { JsArchiveFixture } from './js-archive-fixture';

let fixture: JsArchiveFixture;
let nc: NatsConnection;
const isolated = () => fixture.isolated();

beforeAll(async () => {
  fixture = await JsArchiveFixture.connect();
  nc = fixture.nc;
});
afterAll(() => fixture.close());

describeAuditArchiveConformance('JetStream', async () => {
  const archive = await JsAuditArchive.open(nc, isolated());
  return { archive, dispose: async () => {} };
});

describe('JsAuditArchive', () => {
  it('creates its stream with a ten-minute duplicate window and binds to it when it exists', async () => {
    const opts = isolated();
    await JsAuditArchive.open(nc, opts);
    const info = await (await jetstreamManager(nc)).streams.info(opts.stream!);
    expect(info.config.duplicate_window).toBe(600_000_000_000);
    expect(info.config.subjects).toEqual([`${opts.subjectPrefix}.*.*`]);
    await expect(JsAuditArchive.open(nc, opts)).resolves.toBeInstanceOf(JsAuditArchive);
  });

  it('skips and reports stored records it cannot read', async () => {
    const opts = isolated();
    const corrupt: number[] = [];
    const archive = await JsAuditArchive.open(nc, { ...opts, onCorrupt: (seq) => corrupt.push(seq) });
    const link = { seq: 1, prevHash: '0'.repeat(64), hash: 'f'.repeat(64) };
    await archive.append([{ event: auditEvent('t1'), link }]);
    const js = jetstream(nc);
    const bad = await js.publish(`${opts.subjectPrefix}.t1.${randomUUID()}`, '{ nope');
    const wrong = await js.publish(`${opts.subjectPrefix}.t1.${randomUUID()}`, JSON.stringify({ v: 2 }));
    await archive.append([{ event: auditEvent('t1'), link: { ...link, seq: 2 } }]);
    expect((await archive.records('t1', 1, 10)).map((r) => r.link.seq)).toEqual([1, 2]);
    expect(corrupt).toEqual([bad.seq, wrong.seq]);
  });

  it('reads a chain head stored by the single-claim version as a claim of one link', async () => {
    const opts = isolated();
    const archive = await JsAuditArchive.open(nc, opts);
    const old = { seq: 7, hash: 'a'.repeat(64), prevHash: 'b'.repeat(64), eventId: randomUUID() };
    const kv = await new Kvm(jetstream(nc)).open(opts.headBucket!);
    const revision = await kv.put('t1', JSON.stringify(old));
    const before = Date.now();
    expect(await archive.head('t1')).toEqual({
      seq: 7,
      hash: old.hash,
      claimed: [{ seq: 7, hash: old.hash, prevHash: old.prevHash, eventId: old.eventId }],
      revision,
      storedAt: expect.any(String),
    });
    // The KV entry's own time, by the server's clock (the same machine here).
    const storedAt = Date.parse((await archive.head('t1'))!.storedAt!);
    expect(Math.abs(storedAt - before)).toBeLessThan(60_000);
  });

  it('stores a head compactly, and reads it, and one of the build before, as the same links', async () => {
    const opts = isolated();
    const archive = await JsAuditArchive.open(nc, opts);
    const hex = (n: number) => n.toString(16).padStart(64, '0');
    const claimed = [5, 6, 7].map((seq) => ({
      seq,
      prevHash: hex(seq - 1),
      hash: hex(seq),
      eventId: randomUUID(),
    }));
    const head = { seq: 7, hash: hex(7), claimed };
    const revision = await archive.setHead('t1', head, 0);
    const kv = await new Kvm(jetstream(nc)).open(opts.headBucket!);
    expect((await kv.get('t1'))!.json()).toEqual({
      v: 2,
      seq: 7,
      prevHash: hex(4),
      ids: claimed.map((c) => c.eventId),
      hashes: [hex(5), hex(6), hex(7)],
    });
    expect(await archive.head('t1')).toEqual({ ...head, revision, storedAt: expect.any(String) });
    const before = await kv.put('t2', JSON.stringify(head));
    expect(await archive.head('t2')).toEqual({ ...head, revision: before, storedAt: expect.any(String) });
    // A compact head whose lists disagree, or whose links do not chain, is unreadable, not misread.
    await kv.put('t3', JSON.stringify({ v: 2, seq: 7, prevHash: hex(4), ids: [randomUUID()], hashes: [] }));
    await expect(archive.head('t3')).rejects.toThrow(/unreadable/);
    await kv.put(
      't4',
      JSON.stringify({ v: 2, seq: 7, prevHash: 'x', ids: [randomUUID()], hashes: [hex(7)] }),
    );
    await expect(archive.head('t4')).rejects.toThrow(/unreadable/);
    // Links that are not chained are refused before anything is stored.
    const forked = { ...head, claimed: [claimed[0]!, { ...claimed[1]!, prevHash: hex(9) }, claimed[2]!] };
    await expect(archive.setHead('t1', forked, revision)).rejects.toThrow(RangeError);
  });

  it('refuses an archive stream made with the layout of an earlier build', async () => {
    const opts = isolated();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: opts.stream!, subjects: [`${opts.subjectPrefix}.*`] });
    await expect(JsAuditArchive.open(nc, opts)).rejects.toThrow(/earlier Meshgate build/);
  });
});
