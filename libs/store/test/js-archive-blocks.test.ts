/** Encoding the records of one appendBlock call as blocks, split by size, without a server. */
import { describe, expect, it } from 'vitest';
import { encodeBlocks } from '../src/js-archive-blocks';
import { decodeRecords } from '../src/js-archive-scan';
import { auditEvent } from './audit-archive.conformance';

const records = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    v: 1 as const,
    event: auditEvent('t1'),
    link: { seq: i + 5, prevHash: '0'.repeat(64), hash: 'f'.repeat(64) },
  }));

describe('encodeBlocks', () => {
  it('puts the records in one block named by the chain seqs it holds', () => {
    const list = records(3);
    const [block, ...rest] = encodeBlocks('mg.archive', list);
    expect(rest).toEqual([]);
    expect(block!.subject).toBe('mg.archive.t1.b5');
    expect(block!.msgId).toBe('t1.b5.7');
    expect(decodeRecords({ seq: 1, data: block!.data })).toEqual(list);
  });

  it('splits records that do not fit into one block, in order, each block within the size', () => {
    const list = records(10);
    // Room for three records of the longest encoding (chain seqs of two digits).
    const size = new TextEncoder().encode(JSON.stringify({ v: 2, records: list.slice(7, 10) })).length;
    const blocks = encodeBlocks('mg.archive', list, size);
    expect(blocks.map((b) => b.records.length)).toEqual([3, 3, 3, 1]);
    expect(blocks.map((b) => b.msgId)).toEqual(['t1.b5.7', 't1.b8.10', 't1.b11.13', 't1.b14.14']);
    expect(blocks.every((b) => b.data.length <= size)).toBe(true);
    expect(blocks.flatMap((b) => decodeRecords({ seq: 1, data: b.data }))).toEqual(list);
  });

  it("writes an event's JSON text as given, the records read back the same", () => {
    const list = records(4);
    // Keys in another order than the event's own: the text is written as it is.
    const text = (r: (typeof list)[number]) =>
      JSON.stringify(Object.fromEntries(Object.entries(r.event).reverse()));
    const [block] = encodeBlocks('mg.archive', list, undefined, text);
    const stored = new TextDecoder().decode(block!.data);
    for (const r of list) expect(stored).toContain(`"event":${text(r)}`);
    expect(decodeRecords({ seq: 1, data: block!.data })).toEqual(list);
    // Without a text the event is serialised: the same records either way.
    expect(encodeBlocks('mg.archive', list, undefined, () => undefined)[0]!.records).toEqual(list);
  });

  it('gives a record larger than the size a block of its own', () => {
    expect(encodeBlocks('mg.archive', records(2), 10).map((b) => b.records.length)).toEqual([1, 1]);
  });
});
