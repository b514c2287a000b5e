/**
 * The conformance suite of the AuditArchive port: every adapter (embedded JetStream now, MongoDB later) runs
 * exactly these tests. Each test gets a fresh, empty archive from the factory and disposes of it afterwards.
 * Links here are arbitrary but well-formed: the port stores them, the audit service computes them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import type { AuditEvent } from '@meshgate/contracts';
import {
  HeadConflict,
  InvalidCursor,
  type AuditArchive,
  type ChainLink,
  type Checkpoint,
} from '../src/index';
import { auditEvent } from './audit-event';
import { appendBlockConformance } from './audit-archive-blocks.conformance';

export { auditEvent };

/** What a factory hands each test: an empty archive and how to dispose of it. */
export interface ArchiveFixture {
  archive: AuditArchive;
  dispose(): Promise<void>;
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const link = (seq: number): ChainLink => ({ seq, prevHash: hex(`p${seq}`), hash: hex(`h${seq}`) });

/** Registers the suite for one adapter under `describe(name)`. */
export function describeAuditArchiveConformance(name: string, factory: () => Promise<ArchiveFixture>): void {
  describe(`AuditArchive conformance: ${name}`, () => {
    let fixture: ArchiveFixture;
    let archive: AuditArchive;
    beforeEach(async () => {
      fixture = await factory();
      archive = fixture.archive;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('appends a record, reads it by id, and is idempotent by event id', async () => {
      const e = auditEvent('t1');
      const [first] = await archive.append([{ event: e, link: link(1) }]);
      expect(first).toEqual({ record: { v: 1, event: e, link: link(1) }, created: true });
      const [again] = await archive.append([{ event: e, link: link(2) }]);
      expect(again).toEqual({ record: first!.record, created: false });
      expect(await archive.getById(e.id)).toEqual(first!.record);
      expect(await archive.getById(randomUUID())).toBeNull();
      expect(await archive.getById('not-a-uuid')).toBeNull();
      expect(await archive.records('t1', 1, 10)).toHaveLength(1);
    });

    it('appends a batch in order, one result per entry, known ids left as they are', async () => {
      const known = auditEvent('t1');
      await archive.append([{ event: known, link: link(1) }]);
      const fresh = [auditEvent('t1'), auditEvent('t1'), auditEvent('t1')];
      const results = await archive.append([
        { event: fresh[0]!, link: link(2) },
        { event: known, link: link(9) },
        { event: fresh[1]!, link: link(3) },
        { event: fresh[2]!, link: link(4) },
      ]);
      expect(results.map((r) => [r.record.event.id, r.record.link.seq, r.created])).toEqual([
        [fresh[0]!.id, 2, true],
        [known.id, 1, false],
        [fresh[1]!.id, 3, true],
        [fresh[2]!.id, 4, true],
      ]);
      expect((await archive.records('t1', 1, 10)).map((r) => r.link.seq)).toEqual([1, 2, 3, 4]);
      expect(await archive.append([])).toEqual([]);
    });

    it('reads many records of a tenant by id at once, leaving out unknown, invalid and foreign ids', async () => {
      const events = [auditEvent('t1'), auditEvent('t1'), auditEvent('t2')];
      await archive.append(events.map((event, i) => ({ event, link: link(i + 1) })));
      const found = await archive.getMany('t1', [
        events[0]!.id,
        randomUUID(),
        'not-a-uuid',
        events[1]!.id,
        events[2]!.id,
        events[0]!.id,
      ]);
      expect([...found.keys()].sort()).toEqual([events[0]!.id, events[1]!.id].sort());
      expect(found.get(events[1]!.id)?.link).toEqual(link(2));
      expect((await archive.getMany('t2', [events[2]!.id])).get(events[2]!.id)?.link).toEqual(link(3));
      expect((await archive.getMany('t1', [])).size).toBe(0);
      expect((await archive.getMany('../x', [events[0]!.id])).size).toBe(0);
    });

    it('lets exactly one of two racing appends of one event write it', async () => {
      const e = auditEvent('t1');
      const entry = { event: e, link: link(1) };
      const results = (await Promise.all([archive.append([entry]), archive.append([entry])])).flat();
      expect(results.filter((r) => r.created).length).toBeLessThanOrEqual(1);
      expect(await archive.records('t1', 1, 10)).toHaveLength(1);
    });

    it('rejects an invalid event or link and stores nothing', async () => {
      const bad = { ...auditEvent('t1'), tenant: 'Bad.Tenant' } as AuditEvent;
      await expect(archive.append([{ event: bad, link: link(1) }])).rejects.toThrow();
      await expect(
        archive.append([{ event: auditEvent('t1'), link: { ...link(1), hash: 'x' } }]),
      ).rejects.toThrow();
      const good = { event: auditEvent('t1'), link: link(1) };
      await expect(archive.append([good, { event: bad, link: link(2) }])).rejects.toThrow();
      expect(await archive.records('t1', 1, 10)).toEqual([]);
    });

    it('pages through the records of one tenant in seq order, apart from other tenants', async () => {
      for (let seq = 1; seq <= 7; seq++) {
        await archive.append([{ event: auditEvent('alpha'), link: link(seq) }]);
        if (seq <= 2) await archive.append([{ event: auditEvent('beta'), link: link(seq) }]);
      }
      const seqs = async (tenant: string, from: number, limit: number) =>
        (await archive.records(tenant, from, limit)).map((r) => r.link.seq);
      expect(await seqs('alpha', 1, 3)).toEqual([1, 2, 3]);
      expect(await seqs('alpha', 4, 3)).toEqual([4, 5, 6]);
      expect(await seqs('alpha', 7, 3)).toEqual([7]);
      expect(await seqs('alpha', 2, 2)).toEqual([2, 3]);
      expect(await seqs('alpha', 8, 3)).toEqual([]);
      expect(await seqs('beta', 1, 10)).toEqual([1, 2]);
      expect(await seqs('gamma', 1, 10)).toEqual([]);
      expect(await seqs('../x', 1, 10)).toEqual([]);
    });

    appendBlockConformance(() => archive);

    it('moves a chain head only from the revision it names', async () => {
      expect(await archive.head('t1')).toBeNull();
      const c1 = { seq: 1, hash: hex('a'), prevHash: '0'.repeat(64), eventId: randomUUID() };
      const h1 = { seq: 1, hash: c1.hash, claimed: [c1] };
      const r1 = await archive.setHead('t1', h1, 0);
      const { storedAt, ...stored } = (await archive.head('t1'))!;
      expect(stored).toEqual({ ...h1, revision: r1 });
      // Where an adapter tells when the head was stored, it is a time (the claimed records come after it).
      if (storedAt !== undefined) expect(Number.isNaN(Date.parse(storedAt))).toBe(false);
      await expect(archive.setHead('t1', h1, 0)).rejects.toBeInstanceOf(HeadConflict);
      const c2 = { seq: 2, hash: hex('b'), prevHash: c1.hash, eventId: randomUUID() };
      const c3 = { seq: 3, hash: hex('c'), prevHash: c2.hash, eventId: randomUUID() };
      const h2 = { seq: 3, hash: c3.hash, claimed: [c2, c3] };
      const racing = await Promise.allSettled([archive.setHead('t1', h2, r1), archive.setHead('t1', h2, r1)]);
      expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = racing.find((r) => r.status === 'rejected');
      expect(lost?.status === 'rejected' && lost.reason instanceof HeadConflict).toBe(true);
      expect(await archive.head('t1')).toMatchObject(h2);
      expect(await archive.head('t2')).toBeNull();
      const notEndingAtHead = { seq: 4, hash: hex('d'), claimed: [c3] };
      await expect(archive.setHead('t1', notEndingAtHead, r1 + 1)).rejects.toThrow();
      const unchained = { seq: 3, hash: c3.hash, claimed: [c1, c3] };
      await expect(archive.setHead('t1', unchained, r1 + 1)).rejects.toThrow();
      expect(await archive.head('t1')).toMatchObject(h2);
    });

    it('keeps checkpoints per tenant in seq order', async () => {
      const cp = (tenant: string, seq: number): Checkpoint => ({
        v: 1,
        tenant,
        seq,
        hash: hex(`c${seq}`),
        time: '2026-11-25T10:00:00.000Z',
        keyId: '0123456789abcdef',
        signature: 'c2ln',
      });
      await archive.putCheckpoint(cp('t1', 10));
      await archive.putCheckpoint(cp('t1', 2));
      await archive.putCheckpoint(cp('t2', 5));
      await archive.putCheckpoint({ ...cp('t1', 10), signature: 'bmV3' });
      expect(await archive.checkpoints('t1')).toEqual([cp('t1', 2), { ...cp('t1', 10), signature: 'bmV3' }]);
      expect(await archive.checkpoints('t3')).toEqual([]);
      await expect(archive.putCheckpoint({ ...cp('t1', 3), keyId: 'x' })).rejects.toThrow();
    });

    it('queries by filters with a stable cursor', async () => {
      const mk = (tenant: string, over: Partial<Record<string, unknown>>) => auditEvent(tenant, over);
      const events = [
        mk('q1', { principal: 'ann', server: 'files', target: 'read', time: '2026-11-25T10:00:00Z' }),
        mk('q1', { principal: 'bob', outcome: 'error', time: '2026-11-25T11:00:00Z' }),
        mk('q2', { principal: 'ann', kind: 'cache-hit', key: `sha256:${hex('k')}` }),
        mk('q1', { principal: 'ann', traceId: 'b'.repeat(32), time: '2026-11-25T12:00:00Z' }),
      ];
      await archive.append(events.map((event, i) => ({ event, link: link(i + 1) })));
      const ids = async (q: Parameters<AuditArchive['query']>[0]) =>
        (await archive.query(q, null, 100)).records.map((r) => r.event.id);
      expect(await ids({ principal: 'ann' })).toEqual([events[0]!.id, events[2]!.id, events[3]!.id]);
      expect(await ids({ tenant: 'q1', outcome: 'error' })).toEqual([events[1]!.id]);
      expect(await ids({ kind: 'cache-hit' })).toEqual([events[2]!.id]);
      expect(await ids({ server: 'files', target: 'read' })).toEqual([events[0]!.id]);
      expect(await ids({ traceId: 'b'.repeat(32) })).toEqual([events[3]!.id]);
      expect(await ids({ tenant: 'q1', from: '2026-11-25T10:30:00Z', to: '2026-11-25T12:00:00Z' })).toEqual([
        events[1]!.id,
      ]);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const got = await archive.query({ tenant: 'q1' }, cursor, 2);
        seen.push(...got.records.map((r) => r.event.id));
        cursor = got.cursor;
        if (cursor === null) break;
      }
      expect(seen).toEqual([events[0]!.id, events[1]!.id, events[3]!.id]);
      await expect(archive.query({}, 'forged', 2)).rejects.toBeInstanceOf(InvalidCursor);
    });

    it('answers a ping', async () => {
      await expect(archive.ping()).resolves.toBeUndefined();
    });
  });
}
