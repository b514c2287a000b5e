/** Encoding the records of one appendBlock call as blocks, split by size, without a server. */
import { describe, expect, it } from 'vitest';
import { blockEntries, type ArchiveEntry } from '../src/audit-archive';
import { encodeBlocks } from '../src/js-archive-blocks';
import { decodeRecords } from '../src/js-archive-scan';
import { auditEvent } from './audit-archive.conformance';

const records = (count: number, over = {}) =>
  Array.from({ length: count }, (_, i) => ({
    v: 1 as const,
    event: auditEvent('t1', over),
    link: { seq: i + 5, prevHash: '0'.repeat(64), hash: 'f'.repeat(64) },
  }));
const checked = (list: ReturnType<typeof records>, text?: (r: (typeof list)[number]) => string) =>
  blockEntries(
    list.map(({ event, link }): ArchiveEntry => {
      const json = text?.(list.find((r) => r.event === event)!);
      return json === undefined
        ? { event, link }
        : { event, link, text: { ...event, json: new TextEncoder().encode(json) } };
    }),
  );

describe('encodeBlocks', () => {
  it('puts the records in one block named by the chain seqs it holds', () => {
    const list = records(3);
    const [block, ...rest] = encodeBlocks('mg.archive', checked(list));
    expect(rest).toEqual([]);
    expect(block!.subject).toBe('mg.archive.t1.b5');
    expect(block!.msgId).toBe('t1.b5.7');
    expect(decodeRecords({ seq: 1, data: block!.data })).toEqual(list);
    // The bytes are those of the records' JSON.
    expect(new TextDecoder().decode(block!.data)).toBe(JSON.stringify({ v: 2, records: list }));
  });

  it('splits records that do not fit into one block, in order, each block within the size', () => {
    const list = records(10);
    // Room for three records of the longest encoding (chain seqs of two digits).
    const size = new TextEncoder().encode(JSON.stringify({ v: 2, records: list.slice(7, 10) })).length;
    const blocks = encodeBlocks('mg.archive', checked(list), size);
    expect(blocks.map((b) => b.entries.length)).toEqual([3, 3, 3, 1]);
    expect(blocks.map((b) => b.msgId)).toEqual(['t1.b5.7', 't1.b8.10', 't1.b11.13', 't1.b14.14']);
    expect(blocks.every((b) => b.data.length <= size)).toBe(true);
    expect(blocks.flatMap((b) => decodeRecords({ seq: 1, data: b.data }))).toEqual(list);
  });

  it("writes an event's JSON text as given, the records read back the same", () => {
    const list = records(4, { principal: 'déjà-vu' });
    // Keys in another order than the event's own, and characters beyond ASCII: written as it is.
    const text = (r: (typeof list)[number]) =>
      JSON.stringify(Object.fromEntries(Object.entries(r.event).reverse()));
    const [block] = encodeBlocks('mg.archive', checked(list, text));
    const stored = new TextDecoder().decode(block!.data);
    for (const r of list) expect(stored).toContain(`"event":${text(r)}`);
    expect(decodeRecords({ seq: 1, data: block!.data })).toEqual(list);
  });

  it('gives a record larger than the size a block of its own', () => {
    expect(encodeBlocks('mg.archive', checked(records(2)), 10).map((b) => b.entries.length)).toEqual([1, 1]);
  });
});
