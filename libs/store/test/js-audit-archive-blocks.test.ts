/**
 * The block layout and the id index of the embedded archive against a real NATS: replicas sharing one
 * stream see each other's blocks, an index trimmed to a few ids still finds old records (slow path), both
 * layouts read back in order, a batch too large for one message is split, a catch-up costs one request
 * when no one else wrote, and a sole writer's lookup none while its index holds its own writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { JsAuditArchive, type ArchiveEntry, type ChainLink } from '../src/index';
import { MAX_BLOCK_BYTES } from '../src/js-archive-blocks';
import { auditEvent } from './audit-archive.conformance';
import { JsArchiveFixture, countingConnection } from './js-archive-fixture';

let fixture: JsArchiveFixture;

beforeAll(async () => {
  fixture = await JsArchiveFixture.connect();
});
afterAll(() => fixture.close());

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const link = (seq: number): ChainLink => ({ seq, prevHash: hex(`p${seq}`), hash: hex(`h${seq}`) });
const entries = (tenant: string, from: number, count: number, over = {}): ArchiveEntry[] =>
  Array.from({ length: count }, (_, i) => ({ event: auditEvent(tenant, over), link: link(from + i) }));
const ids = (list: readonly ArchiveEntry[]) => list.map((e) => e.event.id);
/** The event time of a record written `ageMs` ago by the event's clock. */
const ago = (ageMs: number) => new Date(Date.now() - ageMs).toISOString();

describe('JsAuditArchive blocks', () => {
  it("lets two replicas on one stream see each other's blocks", async () => {
    const opts = fixture.isolated();
    const [a, b] = [await JsAuditArchive.open(fixture.nc, opts), await JsAuditArchive.open(fixture.nc, opts)];
    // Both load their index before the other writes: what follows is found by catching up.
    expect((await a.getMany('t1', [randomUUID()])).size).toBe(0);
    expect((await b.getMany('t1', [randomUUID()])).size).toBe(0);
    const first = entries('t1', 1, 3);
    await a.appendBlock(first);
    expect([...(await b.getMany('t1', ids(first))).keys()].sort()).toEqual(ids(first).sort());
    const second = entries('t1', 4, 2);
    await b.appendBlock(second);
    expect(
      (
        await a.getManyEvents(
          't1',
          second.map((e) => e.event),
        )
      ).size,
    ).toBe(2);
    const [completion] = await b.append([{ event: first[1]!.event, link: link(9) }]);
    expect(completion).toEqual({ record: { v: 1, ...first[1]! }, created: false });
    expect((await a.appendBlock(second)).map((r) => r.created)).toEqual([false, false]);
    expect((await b.records('t1', 1, 10)).map((r) => r.link.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stores a block raced by two replicas once', async () => {
    const opts = fixture.isolated();
    const [a, b] = [await JsAuditArchive.open(fixture.nc, opts), await JsAuditArchive.open(fixture.nc, opts)];
    await Promise.all([a.getMany('t1', [randomUUID()]), b.getMany('t1', [randomUUID()])]);
    const block = entries('t1', 1, 4);
    const [ra, rb] = await Promise.all([a.appendBlock(block), b.appendBlock(block)]);
    expect([...ra, ...rb].filter((r) => r.created)).toHaveLength(4);
    expect(rb.map((r) => r.record)).toEqual(ra.map((r) => r.record));
    const info = await (await jetstreamManager(fixture.nc)).streams.info(opts.stream!);
    expect(info.state.messages).toBe(1);
  });

  it('finds records before the horizon of a trimmed index by scanning, and trusts a miss after it', async () => {
    const opts = { ...fixture.isolated(), indexMaxIds: 4 };
    const writer = await JsAuditArchive.open(fixture.nc, opts);
    const old = entries('t1', 1, 3, { time: ago(3_600_000) });
    await writer.appendBlock(old);
    await writer.appendBlock(entries('t2', 1, 3));
    await writer.appendBlock(entries('t1', 4, 3));
    // A second process opening later loads only the newest block; the writer's own index evicted the first.
    const reader = await JsAuditArchive.open(fixture.nc, opts);
    for (const archive of [writer, reader]) {
      expect((await archive.getMany('t1', ids(old))).size).toBe(3);
      expect(
        (
          await archive.getManyEvents(
            't1',
            old.map((e) => e.event),
          )
        ).size,
      ).toBe(3);
      expect((await archive.getMany('t2', ids(old))).size).toBe(0);
      expect(await archive.getById(old[2]!.event.id)).toEqual({ v: 1, ...old[2]! });
      const [again] = await archive.append([{ event: old[0]!.event, link: link(9) }]);
      expect(again).toEqual({ record: { v: 1, ...old[0]! }, created: false });
      expect((await archive.appendBlock(old)).map((r) => r.created)).toEqual([false, false, false]);
    }
    // An event newer than the horizon (by more than the clock skew) cannot be stored before it.
    const counted = countingConnection(fixture.nc);
    const trusting = await JsAuditArchive.open(counted.nc, { ...opts, clockSkewMs: 0 });
    await trusting.getMany('t1', [randomUUID()]);
    const future = { id: old[0]!.event.id, time: ago(-3_600_000) };
    counted.subjects.length = 0;
    expect((await trusting.getManyEvents('t1', [future])).size).toBe(0);
    expect(counted.subjects).toHaveLength(1);
    expect((await trusting.getManyEvents('t1', [{ ...future, time: old[0]!.event.time }])).size).toBe(1);
  });

  it('loads the index of a process opening later over many fetches of its consumer', async () => {
    const opts = fixture.isolated();
    const writer = await JsAuditArchive.open(fixture.nc, opts);
    const written: ArchiveEntry[] = [];
    for (let seq = 1; seq <= 300; seq++) {
      const block = entries('t1', seq, 1);
      written.push(...block);
      await (seq % 2 ? writer.appendBlock(block) : writer.append(block));
    }
    const reader = await JsAuditArchive.open(fixture.nc, opts);
    expect((await reader.getMany('t1', ids(written))).size).toBe(300);
    const info = await (await jetstreamManager(fixture.nc)).streams.info(opts.stream!);
    expect(info.state.consumer_count).toBe(0);
  });

  it('reads single records of earlier builds and blocks back in seq order', async () => {
    const opts = fixture.isolated();
    const js = jetstream(fixture.nc);
    const legacy = entries('t1', 1, 3);
    const archive = await JsAuditArchive.open(fixture.nc, opts);
    for (const { event, link } of legacy)
      await js.publish(`${opts.subjectPrefix}.t1.${event.id}`, JSON.stringify({ v: 1, event, link }), {
        msgID: event.id,
      });
    await archive.appendBlock(entries('t1', 4, 3));
    await archive.append(entries('t1', 7, 1));
    await archive.appendBlock(entries('t1', 8, 2));
    const seqs: number[] = [];
    for (let from = 1; seqs.length < 20;) {
      const page = await archive.records('t1', from, 2);
      if (page.length === 0) break;
      seqs.push(...page.map((r) => r.link.seq));
      from = page.at(-1)!.link.seq + 1;
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await archive.getMany('t1', ids(legacy))).size).toBe(3);
    const firstPage = await archive.query({ tenant: 't1' }, null, 4);
    expect(firstPage.records.map((r) => r.link.seq)).toEqual([1, 2, 3, 4]);
    // The page ends inside the first block: the cursor names the record after it; the old form still works.
    expect(firstPage.cursor).toBe('s4.1');
    expect(
      (await archive.query({ tenant: 't1' }, firstPage.cursor, 3)).records.map((r) => r.link.seq),
    ).toEqual([5, 6, 7]);
    expect((await archive.query({ tenant: 't1' }, 's4', 1)).records.map((r) => r.link.seq)).toEqual([4]);
  });

  it('skips and reports an unreadable record inside a block', async () => {
    const opts = fixture.isolated();
    const corrupt: number[] = [];
    const archive = await JsAuditArchive.open(fixture.nc, { ...opts, onCorrupt: (seq) => corrupt.push(seq) });
    const [good] = entries('t1', 1, 1);
    const bad = await jetstream(fixture.nc).publish(
      `${opts.subjectPrefix}.t1.b1`,
      JSON.stringify({
        v: 2,
        records: [
          { v: 1, ...good },
          { v: 1, event: { id: 'x' } },
        ],
      }),
    );
    expect((await archive.records('t1', 1, 10)).map((r) => r.event.id)).toEqual([good!.event.id]);
    expect(corrupt).toEqual([bad.seq]);
  });

  it('splits a batch too large for one message into several blocks', async () => {
    const opts = fixture.isolated();
    const archive = await JsAuditArchive.open(fixture.nc, opts);
    const bulky = {
      kind: 'request-received',
      arguments: { digest: `sha256:${hex('a')}`, redacted: 'x'.repeat(30_000) },
    };
    const batch = entries('t1', 1, 40, bulky);
    const results = await archive.appendBlock(batch);
    expect(results.every((r) => r.created)).toBe(true);
    const jsm = await jetstreamManager(fixture.nc);
    const { state } = await jsm.streams.info(opts.stream!);
    expect(state.messages).toBe(2);
    for (let seq = state.first_seq; seq <= state.last_seq; seq++)
      expect((await jsm.streams.getMessage(opts.stream!, { seq }))!.data.length).toBeLessThanOrEqual(
        MAX_BLOCK_BYTES,
      );
    expect((await archive.records('t1', 1, 100)).map((r) => r.event.id)).toEqual(ids(batch));
    expect((await archive.getMany('t1', ids(batch))).size).toBe(40);
    // A second process loads its index through a consumer, and removes it when done.
    expect((await (await JsAuditArchive.open(fixture.nc, opts)).getMany('t1', ids(batch))).size).toBe(40);
    expect((await jsm.streams.info(opts.stream!)).state.consumer_count).toBe(0);
  });

  it('costs one request per lookup, none for a sole writer, and one per block when no one else writes', async () => {
    const counted = countingConnection(fixture.nc);
    const opts = fixture.isolated();
    const archive = await JsAuditArchive.open(counted.nc, opts);
    // Batches that fit one block each.
    await archive.appendBlock(entries('t1', 1, 1000));
    counted.subjects.length = 0;
    const next = entries('t1', 1001, 1000);
    const refs = next.map((e) => e.event);
    expect((await archive.getManyEvents('t1', refs)).size).toBe(0);
    expect(counted.subjects).toHaveLength(1);
    expect((await archive.getManyEvents('t1', refs, { soleWriter: true })).size).toBe(0);
    expect(counted.subjects).toHaveLength(1);
    await archive.appendBlock(next);
    expect(counted.subjects).toHaveLength(2);
    // Its own block is known without asking.
    expect((await archive.getManyEvents('t1', refs, { soleWriter: true })).size).toBe(1000);
    expect(counted.subjects).toHaveLength(3); // the get of the block's records
    expect((await archive.getMany('t1', [randomUUID()])).size).toBe(0);
    expect(counted.subjects).toHaveLength(4);
    // An unreadable message written by someone else is read once, then passed over.
    await jetstream(fixture.nc).publish(`${opts.subjectPrefix}.t1.b999`, '{ nope');
    counted.subjects.length = 0;
    await archive.getMany('t1', [randomUUID()]);
    await archive.getMany('t1', [randomUUID()]);
    expect(counted.subjects).toHaveLength(3);
  });

  it("asks the store again for a sole writer once another replica's message came between its own", async () => {
    const opts = fixture.isolated();
    const [a, b] = [await JsAuditArchive.open(fixture.nc, opts), await JsAuditArchive.open(fixture.nc, opts)];
    await Promise.all([a.getMany('t1', [randomUUID()]), b.getMany('t1', [randomUUID()])]);
    const own = entries('t1', 1, 2);
    await a.appendBlock(own);
    const other = entries('t1', 3, 2);
    await b.appendBlock(other);
    const later = entries('t1', 5, 2);
    await a.appendBlock(later);
    // a's last block did not follow its index: the lookup catches up, and finds every record.
    const all = [...own, ...other, ...later];
    const found = await a.getManyEvents(
      't1',
      all.map((e) => e.event),
      { soleWriter: true },
    );
    expect([...found.keys()].sort()).toEqual(ids(all).sort());
  });

  it('pages through a long chain of blocks without reading it again from the beginning', async () => {
    const counted = countingConnection(fixture.nc);
    const opts = fixture.isolated();
    const archive = await JsAuditArchive.open(counted.nc, opts);
    for (let seq = 1; seq <= 200; seq += 10) await archive.appendBlock(entries('t1', seq, 10));
    const seqs: number[] = [];
    let most = 0;
    for (let from = 1; seqs.length < 300;) {
      counted.subjects.length = 0;
      const page = await archive.records('t1', from, 15);
      most = Math.max(most, counted.subjects.length);
      if (page.length === 0) break;
      seqs.push(...page.map((r) => r.link.seq));
      from = page.at(-1)!.link.seq + 1;
    }
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // A page of 15 spans at most three blocks of ten, one of them already read by the page before.
    expect(most).toBeLessThanOrEqual(3);
    const info = await (await jetstreamManager(fixture.nc)).streams.info(opts.stream!);
    expect(info.state.consumer_count).toBe(0);
  });
});
