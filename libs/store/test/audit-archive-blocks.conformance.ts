/**
 * The `appendBlock` cases of the AuditArchive conformance suite, registered inside it for every adapter:
 * one call stores a claimed batch, known ids are not written again, and the records of blocks are found by
 * id and read back in pages like those of `append`.
 */
import { expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { MAX_CLAIM, type AuditArchive, type ChainLink } from '../src/index';
import { auditEvent } from './audit-event';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const link = (seq: number): ChainLink => ({ seq, prevHash: hex(`p${seq}`), hash: hex(`h${seq}`) });

/** Registers the cases on the archive `current()` returns (a fresh one per test). */
export function appendBlockConformance(current: () => AuditArchive): void {
  it('appends a block in one call, one result per entry in order, known ids not written again', async () => {
    const archive = current();
    const known = auditEvent('t1');
    await archive.append([{ event: known, link: link(1) }]);
    const fresh = [auditEvent('t1'), auditEvent('t1'), auditEvent('t1')];
    const entries = [
      { event: fresh[0]!, link: link(2) },
      { event: known, link: link(9) },
      { event: fresh[1]!, link: link(3) },
      { event: fresh[2]!, link: link(4) },
    ];
    const results = await archive.appendBlock(entries);
    expect(results.map((r) => [r.record.event.id, r.record.link.seq, r.created])).toEqual([
      [fresh[0]!.id, 2, true],
      [known.id, 1, false],
      [fresh[1]!.id, 3, true],
      [fresh[2]!.id, 4, true],
    ]);
    expect(results[0]!.record).toEqual({ v: 1, event: fresh[0], link: link(2) });
    const again = await archive.appendBlock(entries);
    expect(again.map((r) => r.created)).toEqual([false, false, false, false]);
    expect(again.map((r) => r.record)).toEqual(results.map((r) => r.record));
    expect((await archive.records('t1', 1, 10)).map((r) => r.link.seq)).toEqual([1, 2, 3, 4]);
    expect(await archive.appendBlock([])).toEqual([]);
  });

  it('writes an id repeated in a block once', async () => {
    const archive = current();
    const e = auditEvent('t1');
    const results = await archive.appendBlock([
      { event: e, link: link(1) },
      { event: e, link: link(2) },
    ]);
    expect(results.map((r) => [r.record.link.seq, r.created])).toEqual([
      [1, true],
      [1, false],
    ]);
    expect(await archive.records('t1', 1, 10)).toHaveLength(1);
  });

  it('rejects a block of two tenants, an oversized block or an invalid entry, and stores nothing', async () => {
    const archive = current();
    const mixed = [
      { event: auditEvent('t1'), link: link(1) },
      { event: auditEvent('t2'), link: link(2) },
    ];
    await expect(archive.appendBlock(mixed)).rejects.toBeInstanceOf(RangeError);
    const big = Array.from({ length: MAX_CLAIM + 1 }, (_, i) => ({
      event: auditEvent('t1'),
      link: link(i + 1),
    }));
    await expect(archive.appendBlock(big)).rejects.toBeInstanceOf(RangeError);
    const bad = { event: auditEvent('t1'), link: { ...link(2), hash: 'x' } };
    await expect(archive.appendBlock([{ event: auditEvent('t1'), link: link(1) }, bad])).rejects.toThrow();
    // A link that does not follow the one before has its prevHash checked too.
    const unchained = { event: auditEvent('t1'), link: { ...link(3), prevHash: 'F'.repeat(64) } };
    await expect(
      archive.appendBlock([{ event: auditEvent('t1'), link: link(1) }, unchained]),
    ).rejects.toThrow(/prevHash/);
    expect(await archive.records('t1', 1, 10)).toEqual([]);
    expect(await archive.records('t2', 1, 10)).toEqual([]);
  });

  it('finds the records of a block by id, and an append of one of them returns the stored record', async () => {
    const archive = current();
    const events = [auditEvent('t1'), auditEvent('t1'), auditEvent('t1')];
    const stored = (await archive.appendBlock(events.map((event, i) => ({ event, link: link(i + 1) })))).map(
      (r) => r.record,
    );
    const [completion] = await archive.append([{ event: events[1]!, link: link(7) }]);
    expect(completion).toEqual({ record: stored[1], created: false });
    const found = await archive.getMany('t1', [...events.map((e) => e.id), randomUUID()]);
    expect(events.map((e) => found.get(e.id))).toEqual(stored);
    expect(found.size).toBe(3);
    const byEvents = await archive.getManyEvents('t1', [
      ...events,
      { id: randomUUID(), time: events[0]!.time },
    ]);
    expect(events.map((e) => byEvents.get(e.id))).toEqual(stored);
    expect(byEvents.size).toBe(3);
    expect((await archive.getManyEvents('t2', events)).size).toBe(0);
    expect(await archive.getById(events[2]!.id)).toEqual(stored[2]);
    expect(await archive.records('t1', 1, 10)).toEqual(stored);
  });

  it('pages through blocks of one tenant, apart from other tenants, with a query cursor cut inside a block', async () => {
    const archive = current();
    const block = (tenant: string, from: number, to: number) =>
      archive.appendBlock(
        Array.from({ length: to - from + 1 }, (_, i) => ({
          event: auditEvent(tenant, { principal: `p${from + i}` }),
          link: link(from + i),
        })),
      );
    await block('alpha', 1, 4);
    await block('beta', 1, 2);
    await block('alpha', 5, 7);
    await archive.append([{ event: auditEvent('alpha', { principal: 'p8' }), link: link(8) }]);
    await block('alpha', 9, 10);
    const seqs = async (tenant: string, from: number, limit: number) =>
      (await archive.records(tenant, from, limit)).map((r) => r.link.seq);
    expect(await seqs('alpha', 1, 3)).toEqual([1, 2, 3]);
    expect(await seqs('alpha', 4, 3)).toEqual([4, 5, 6]);
    expect(await seqs('alpha', 7, 3)).toEqual([7, 8, 9]);
    expect(await seqs('alpha', 10, 3)).toEqual([10]);
    expect(await seqs('alpha', 2, 2)).toEqual([2, 3]);
    expect(await seqs('alpha', 11, 3)).toEqual([]);
    expect(await seqs('beta', 1, 10)).toEqual([1, 2]);
    const principals: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await archive.query({ tenant: 'alpha' }, cursor, 3);
      principals.push(...page.records.map((r) => r.event.principal ?? ''));
      cursor = page.cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(principals).toEqual(Array.from({ length: 10 }, (_, i) => `p${i + 1}`));
    expect(pages).toBeGreaterThanOrEqual(4);
    const beta = await archive.query({ tenant: 'beta' }, null, 10);
    expect(beta.records.map((r) => r.link.seq)).toEqual([1, 2]);
    expect(beta.records.every((r) => r.event.tenant === 'beta')).toBe(true);
  });
}
