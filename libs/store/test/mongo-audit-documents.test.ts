/**
 * The pure half of the MongoDB audit archive, without a server: how a query becomes a MongoDB filter and
 * sort, the cursors it issues and refuses, how records, heads and checkpoints become documents and back
 * (through the driver's own BSON encoding), and which stored documents are refused as unreadable.
 */
import { describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { BSON } from 'mongodb';
import { ArchiveRecord, InvalidCursor, type AuditQuery, type Checkpoint } from '../src/index';
import {
  RECORD_INDEXES,
  TIME_INDEX,
  checkpointDocument,
  checkpointOf,
  decodeCursor,
  encodeCursor,
  headDocument,
  orderOf,
  readRecordDocument,
  recordDocument,
  recordQuery,
  storedHeadOf,
  timeIndex,
} from '../src/mongo-audit-documents';
import { auditEvent } from './audit-archive.conformance';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const link = (seq: number) => ({ seq, prevHash: hex(`p${seq}`), hash: hex(`h${seq}`) });
const record = (over: Partial<Record<string, unknown>> = {}): ArchiveRecord =>
  ArchiveRecord.parse({ v: 1, event: auditEvent('acme', over), link: link(1) });

describe('recordQuery', () => {
  it('maps every filter to an $eq on its field, the time range to $gte/$lt dates, in archive order', () => {
    const q: AuditQuery = {
      tenant: 'acme',
      principal: 'ann',
      server: 'files',
      target: 'read',
      kind: 'upstream-call',
      outcome: 'error',
      traceId: 'c'.repeat(32),
      from: '2026-11-25T10:00:00+01:00',
      to: '2026-11-25T12:00:00.250Z',
    };
    expect(recordQuery(q, null)).toEqual({
      query: q,
      filter: {
        tenant: { $eq: 'acme' },
        principal: { $eq: 'ann' },
        server: { $eq: 'files' },
        target: { $eq: 'read' },
        kind: { $eq: 'upstream-call' },
        outcome: { $eq: 'error' },
        traceId: { $eq: 'c'.repeat(32) },
        time: { $gte: new Date('2026-11-25T09:00:00.000Z'), $lt: new Date('2026-11-25T12:00:00.250Z') },
      },
      sort: { order: 1 },
    });
  });

  it('leaves absent filters out, bounds one side of the range alone, and continues after a cursor', () => {
    expect(recordQuery({}, null).filter).toEqual({});
    expect(recordQuery({ from: '2026-11-25T10:00:00Z' }, 41).filter).toEqual({
      time: { $gte: new Date('2026-11-25T10:00:00Z') },
      order: { $gt: 41 },
    });
    expect(recordQuery({ to: '2026-11-25T10:00:00Z' }, 0).filter).toEqual({
      time: { $lt: new Date('2026-11-25T10:00:00Z') },
      order: { $gt: 0 },
    });
  });

  it('refuses operators, objects and unknown keys as filters before any query is built', () => {
    const bad = [
      { principal: { $ne: null } },
      { tenant: { $regex: '.*' } },
      { $where: 'true' },
      { tenant: 'Not.A.Tenant' },
      { traceId: 'x' },
      { from: 'yesterday' },
      { kind: 'anything' },
      { outcome: ['ok'] },
    ];
    for (const filters of bad) expect(() => recordQuery(filters as unknown as AuditQuery, null)).toThrow();
  });
});

describe('query cursors', () => {
  it('round-trip the order they continue after', () => {
    for (const order of [0, 1, 42, Number.MAX_SAFE_INTEGER])
      expect(decodeCursor(encodeCursor(order))).toBe(order);
    expect(() => encodeCursor(-1)).toThrow(RangeError);
    expect(() => encodeCursor(1.5)).toThrow(RangeError);
  });

  it('are refused when this adapter did not issue them', () => {
    const forged = [
      '',
      'm',
      'm-1',
      'm01',
      'm1.5',
      'm1e3',
      'M1',
      ' m1',
      'm1 ',
      's5',
      'm١٢',
      `m${'9'.repeat(16)}`,
      `m${'1'.repeat(17)}`,
      'forged',
      '{"$gt":0}',
    ];
    for (const cursor of forged) expect(() => decodeCursor(cursor), cursor).toThrow(InvalidCursor);
    expect(() => decodeCursor({ $gt: 0 } as unknown as string)).toThrow(InvalidCursor);
  });
});

describe('record documents', () => {
  it('hold the record as JSON text and copies of the fields queries use', () => {
    const r = record({
      principal: 'ann',
      server: 'files',
      target: 'read',
      time: '2026-11-25T11:00:00+01:00',
    });
    expect(recordDocument(r, 7)).toEqual({
      _id: r.event.id,
      tenant: 'acme',
      seq: 1,
      time: new Date('2026-11-25T10:00:00Z'),
      order: 7,
      kind: 'response-sent',
      traceId: 'a'.repeat(32),
      principal: 'ann',
      server: 'files',
      target: 'read',
      outcome: 'ok',
      record: JSON.stringify(r),
    });
    const noOutcome = record({ kind: 'cache-hit', key: `sha256:${hex('k')}` });
    const doc = recordDocument(noOutcome, 1);
    for (const field of ['principal', 'server', 'target', 'outcome']) expect(doc).not.toHaveProperty(field);
  });

  it('read back exactly, whatever keys the arguments hold', () => {
    const args = {
      digest: `sha256:${hex('a')}`,
      redacted: { $ref: 'x', $id: 1, 'a.b': [1.5, null, '\u0000'], '': { $gt: '\ud800' }, n: 2 ** 53 - 1 },
    };
    const r = record({ kind: 'request-received', arguments: args });
    const read = readRecordDocument(recordDocument(r, 1));
    expect(read).toEqual({ ok: true, record: r });
    expect(read.ok && read.record.event.kind === 'request-received' && read.record.event.arguments).toEqual(
      args,
    );
  });

  it('come back from BSON as they went in, where the arguments as a subdocument would not', () => {
    const args = { digest: `sha256:${hex('a')}`, redacted: { $ref: 'x', $id: 1, s: '\ud800' } };
    const r = record({ kind: 'request-received', arguments: args, time: '2026-11-25T10:00:00.123456Z' });
    const stored = BSON.deserialize(BSON.serialize(recordDocument(r, 9)));
    expect(readRecordDocument(stored)).toEqual({ ok: true, record: r });
    expect(orderOf(stored)).toBe(9);
    const naive = BSON.deserialize(BSON.serialize({ redacted: args.redacted }));
    expect(naive['redacted']).not.toEqual(args.redacted);
    expect(() => BSON.serialize({ redacted: { 'nul\u0000key': 1 } })).toThrow();
  });

  it('are unreadable when broken, or when their copies of id, tenant, seq or time are not the record`s', () => {
    const r = record();
    const doc = recordDocument(r, 3);
    const cases: Array<[unknown, RegExp]> = [
      [null, /^not a record document/],
      [{ ...doc, record: 42 }, /^not a record document: record/],
      [{ ...doc, time: doc.time.toISOString() }, /^not a record document: time/],
      [{ ...doc, record: '{ nope' }, /^not JSON$/],
      [{ ...doc, record: JSON.stringify({ ...r, v: 2 }) }, /^not an archive record: v/],
      [{ ...doc, _id: randomUUID() }, /^its _id /],
      [{ ...doc, tenant: 'other' }, /^its tenant /],
      [{ ...doc, seq: 2 }, /^its seq /],
      [{ ...doc, time: new Date(doc.time.getTime() + 1) }, /^its time /],
    ];
    for (const [stored, reason] of cases) {
      const read = readRecordDocument(stored);
      expect(read.ok).toBe(false);
      if (!read.ok) expect(read.reason).toMatch(reason);
    }
    const withObjectId = readRecordDocument({ ...doc, _id: { oid: 1 } });
    expect(withObjectId).toMatchObject({ ok: false, id: '{ oid: 1 }' });
  });

  it('give their order to a cursor only when it is a whole number', () => {
    expect(orderOf({ order: 5 })).toBe(5);
    expect(orderOf({ order: 0 })).toBe(0);
    for (const doc of [{}, { order: -1 }, { order: 1.5 }, { order: '5' }, null])
      expect(orderOf(doc)).toBeNull();
  });
});

describe('head documents', () => {
  const c1 = { seq: 4, hash: hex('a'), prevHash: hex('z'), eventId: randomUUID() };
  const c2 = { seq: 5, hash: hex('b'), prevHash: c1.hash, eventId: randomUUID() };
  const head = { seq: 5, hash: c2.hash, claimed: [c1, c2] };

  it('map a chain head and its revision to a document and back, through BSON', () => {
    const doc = headDocument('acme', head, 3);
    expect(doc).toEqual({ _id: 'acme', revision: 3, head });
    expect(storedHeadOf('acme', BSON.deserialize(BSON.serialize(doc)))).toEqual({ ...head, revision: 3 });
  });

  it('refuse an invalid tenant or head on the way in', () => {
    expect(() => headDocument('../acme', head, 1)).toThrow();
    expect(() => headDocument('acme', { ...head, seq: 6 }, 1)).toThrow();
    expect(() => headDocument('acme', { ...head, claimed: [c2, c1] }, 1)).toThrow();
  });

  it('read a head stored by the single-claim version as a claim of one link', () => {
    expect(storedHeadOf('acme', { _id: 'acme', revision: 2, head: c1 })).toEqual({
      seq: 4,
      hash: c1.hash,
      claimed: [c1],
      revision: 2,
    });
  });

  it('throw on a stored head that cannot be read, rather than guess one', () => {
    for (const doc of [
      {},
      { revision: 0, head },
      { revision: 1.5, head },
      { revision: 1, head: { ...head, claimed: [] } },
      { revision: 1, head: { seq: 5, hash: 'x', claimed: [c1, c2] } },
    ])
      expect(() => storedHeadOf('acme', doc)).toThrow(/tenant "acme" is unreadable/);
  });
});

describe('checkpoint documents', () => {
  const cp: Checkpoint = {
    v: 1,
    tenant: 'acme',
    seq: 12,
    hash: hex('c'),
    time: '2026-11-25T10:00:00.000Z',
    keyId: '0123456789abcdef',
    signature: 'c2ln',
  };

  it('are keyed by tenant and seq and read back for their own tenant only', () => {
    const doc = checkpointDocument(cp);
    expect(doc).toEqual({ _id: 'acme.12', tenant: 'acme', seq: 12, checkpoint: cp });
    expect(checkpointOf('acme', BSON.deserialize(BSON.serialize(doc)))).toEqual(cp);
    expect(checkpointOf('other', doc)).toBeNull();
    expect(checkpointOf('acme', { ...doc, checkpoint: { ...cp, keyId: 'x' } })).toBeNull();
    expect(() => checkpointDocument({ ...cp, signature: '' })).toThrow();
  });
});

describe('indexes', () => {
  it('end every query index with the archive order and lead the filter indexes with the tenant', () => {
    const keys = RECORD_INDEXES.map((ix) => Object.keys(ix.key));
    for (const k of keys) expect(k.at(-1)).toBe('order');
    for (const field of ['seq', 'time', 'principal', 'server', 'target', 'kind', 'outcome'])
      expect(keys).toContainEqual(['tenant', field, 'order']);
    expect(keys).toContainEqual(['traceId', 'order']);
    expect(RECORD_INDEXES.some((ix) => ix.unique)).toBe(false);
  });

  it('put the TTL on the time index only when retention is set', () => {
    expect(timeIndex(undefined)).toEqual({ name: TIME_INDEX, key: { time: 1 } });
    expect(timeIndex(0)).toEqual({ name: TIME_INDEX, key: { time: 1 } });
    expect(timeIndex(86_400)).toEqual({ name: TIME_INDEX, key: { time: 1 }, expireAfterSeconds: 86_400 });
  });
});
