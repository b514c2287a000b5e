/**
 * Reading the embedded archive without a server: both message layouts decode, unreadable parts are
 * reported, and a scan hint is reused for later seqs and for seqs inside the last message read.
 */
import { describe, expect, it } from 'vitest';
import { advanceHint, decodeRecords, readHint } from '../src/js-archive-scan';
import { auditEvent } from './audit-archive.conformance';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const record = (seq: number) => ({
  v: 1 as const,
  event: auditEvent('t1'),
  link: { seq, prevHash: '0'.repeat(64), hash: 'f'.repeat(64) },
});

describe('decodeRecords', () => {
  it('reads a single record and a block of records', () => {
    const one = record(1);
    expect(decodeRecords({ seq: 1, data: encode(one) })).toEqual([one]);
    const block = [record(2), record(3)];
    expect(decodeRecords({ seq: 2, data: encode({ v: 2, records: block }) })).toEqual(block);
  });

  it('skips and reports an unreadable message, or an unreadable record of a block in its place', () => {
    const corrupt: [number, string][] = [];
    const onCorrupt = (seq: number, reason: string) => corrupt.push([seq, reason]);
    expect(decodeRecords({ seq: 5, data: new TextEncoder().encode('{ nope') }, onCorrupt)).toEqual([]);
    expect(decodeRecords({ seq: 6, data: encode({ v: 2, records: [] }) }, onCorrupt)).toEqual([]);
    const good = record(4);
    expect(decodeRecords({ seq: 7, data: encode({ v: 2, records: [{ v: 1 }, good] }) }, onCorrupt)).toEqual([
      null,
      good,
    ]);
    expect(corrupt.map(([seq]) => seq)).toEqual([5, 6, 7]);
    expect(corrupt[2]![1]).toMatch(/^record 0 of the block/);
  });
});

describe('readHint', () => {
  const hint = { pos: 900, maxSeq: 500, lastPos: 880, lastMaxSeq: 300 };

  it('starts after the hint for seqs above everything read', () => {
    expect(readHint(hint, 501)).toEqual(hint);
  });

  it('starts at the last message read for seqs inside it, so a page cut inside a block costs no rescan', () => {
    expect(readHint(hint, 500)).toEqual({ pos: 880, maxSeq: 300, lastPos: 880, lastMaxSeq: 300 });
    expect(readHint(hint, 301)).toEqual({ pos: 880, maxSeq: 300, lastPos: 880, lastMaxSeq: 300 });
  });

  it('starts at the beginning for earlier seqs or without a hint', () => {
    const start = { pos: 1, maxSeq: 0, lastPos: 1, lastMaxSeq: 0 };
    expect(readHint(hint, 300)).toEqual(start);
    expect(readHint(undefined, 7)).toEqual(start);
  });

  it('moves past each message read, keeping the largest seq before it', () => {
    const start = readHint(undefined, 1);
    const a = advanceHint(start, 4, [record(1), null, record(3)]);
    expect(a).toEqual({ pos: 5, maxSeq: 3, lastPos: 4, lastMaxSeq: 0 });
    expect(advanceHint(a, 9, [record(2)])).toEqual({ pos: 10, maxSeq: 3, lastPos: 9, lastMaxSeq: 3 });
  });
});
