/**
 * The MongoDB audit archive against the real MongoDB at MONGO_URL: the conformance suite, each test on a
 * database of its own that is dropped afterwards, then what only this adapter promises (its indexes and TTL,
 * its cursors, unreadable documents skipped and reported, records sharing a seq, filters that cannot carry
 * operators, arguments BSON could not keep). Without MONGO_URL every test here is reported as skipped and one
 * line says so: no MongoDB is started for the tests.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import {
  InvalidCursor,
  MongoAuditArchive,
  type AuditQuery,
  type MongoAuditArchiveOptions,
} from '../src/index';
import { CHECKPOINT_INDEXES, RECORD_INDEXES, TIME_INDEX } from '../src/mongo-audit-documents';
import { auditEvent, describeAuditArchiveConformance } from './audit-archive.conformance';

const url = process.env['MONGO_URL'];
if (!url) console.warn('MongoDB adapter tests skipped: MONGO_URL is not set');

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const link = (seq: number) => ({ seq, prevHash: hex(`p${seq}`), hash: hex(`h${seq}`) });

describe.skipIf(!url)('MongoDB audit archive', () => {
  let client: MongoClient;
  const made: string[] = [];
  beforeAll(async () => {
    client = await MongoClient.connect(url!);
  });
  afterAll(async () => {
    await client?.close();
  });

  /** A database name of its own; `drop` removes it. */
  const isolated = () => {
    const dbName = `mgtest_audit_${randomBytes(6).toString('hex')}`;
    made.push(dbName);
    return dbName;
  };
  const drop = async (dbName: string) => {
    await client.db(dbName).dropDatabase();
  };

  describeAuditArchiveConformance('MongoDB', async () => {
    const dbName = isolated();
    const archive = await MongoAuditArchive.open(client, { dbName });
    return { archive, dispose: () => drop(dbName) };
  });

  describe('MongoAuditArchive', () => {
    afterEach(async () => {
      for (const dbName of made.splice(0)) await drop(dbName);
    });

    const open = async (opts: MongoAuditArchiveOptions = {}) => {
      const dbName = opts.dbName ?? isolated();
      const archive = await MongoAuditArchive.open(client, { ...opts, dbName });
      const records = client
        .db(dbName)
        .collection<{ _id: string } & Record<string, unknown>>(`${opts.collectionPrefix ?? 'audit_'}records`);
      return { archive, dbName, records };
    };

    it('creates its indexes on open, none of them unique but _id, and opening again changes nothing', async () => {
      const { dbName, records } = await open({ collectionPrefix: 'x_' });
      const expected = [
        ...RECORD_INDEXES,
        { name: TIME_INDEX, key: { time: 1 } },
        { name: '_id_', key: { _id: 1 } },
      ];
      const list = async () =>
        (await records.indexes()).map((ix) => ({ name: ix.name, key: ix.key, unique: ix.unique ?? false }));
      const want = expected.map((ix) => ({ name: ix.name, key: ix.key, unique: false }));
      expect((await list()).sort(byName)).toEqual(want.sort(byName));
      const cps = await client.db(dbName).collection('x_checkpoints').indexes();
      expect(cps.map((ix) => ix.name).sort()).toEqual(
        ['_id_', ...CHECKPOINT_INDEXES.map((ix) => ix.name!)].sort(),
      );
      await MongoAuditArchive.open(client, { dbName, collectionPrefix: 'x_' });
      expect((await list()).sort(byName)).toEqual(want.sort(byName));
      expect(
        (await records.indexes()).find((ix) => ix.name === TIME_INDEX)?.expireAfterSeconds,
      ).toBeUndefined();
    });

    it('keeps the TTL of the time index in step with the retention of each open', async () => {
      const { dbName, records } = await open();
      const ttl = async () =>
        (await records.indexes()).find((ix) => ix.name === TIME_INDEX)?.expireAfterSeconds;
      expect(await ttl()).toBeUndefined();
      await MongoAuditArchive.open(client, { dbName, retentionDays: 30 });
      expect(await ttl()).toBe(30 * 86_400);
      await MongoAuditArchive.open(client, { dbName, retentionDays: 7 });
      expect(await ttl()).toBe(7 * 86_400);
      await MongoAuditArchive.open(client, { dbName });
      expect(await ttl()).toBeUndefined();
      expect((await records.indexes()).find((ix) => ix.name === TIME_INDEX)?.key).toEqual({ time: 1 });
      await expect(MongoAuditArchive.open(client, { dbName, retentionDays: 1.5 })).rejects.toThrow();
    });

    it('issues cursors that continue a query and refuses those it did not issue', async () => {
      const { archive } = await open();
      const events = [auditEvent('t1'), auditEvent('t1'), auditEvent('t1')];
      await archive.append(events.map((event, i) => ({ event, link: link(i + 1) })));
      const first = await archive.query({ tenant: 't1' }, null, 2);
      expect(first.records.map((r) => r.event.id)).toEqual([events[0]!.id, events[1]!.id]);
      expect(first.cursor).toMatch(/^m\d+$/);
      const rest = await archive.query({ tenant: 't1' }, first.cursor, 2);
      expect(rest).toEqual({ records: [expect.objectContaining({ event: events[2] })], cursor: null });
      for (const forged of ['s5', 'm', 'm-1', `${first.cursor!} `, '{"$gt":0}'])
        await expect(archive.query({ tenant: 't1' }, forged, 2)).rejects.toBeInstanceOf(InvalidCursor);
    });

    it('refuses filters and keys that are not plain values before reading anything', async () => {
      const { archive } = await open();
      await archive.append([{ event: auditEvent('t1'), link: link(1) }]);
      const injected = [{ principal: { $ne: null } }, { tenant: { $gt: '' } }, { $where: 'true' }];
      for (const filters of injected)
        await expect(archive.query(filters as unknown as AuditQuery, null, 10)).rejects.toThrow();
      const anything = { $ne: null } as unknown as string;
      expect(await archive.getById(anything)).toBeNull();
      expect((await archive.getMany('t1', [anything])).size).toBe(0);
      expect(await archive.records(anything, 1, 10)).toEqual([]);
      expect(await archive.head(anything)).toBeNull();
      expect(await archive.checkpoints(anything)).toEqual([]);
    });

    it('skips and reports stored records it cannot read, without counting them in a page', async () => {
      const corrupt: Array<[string, string]> = [];
      const { archive, records } = await open({ onCorrupt: (id, reason) => corrupt.push([id, reason]) });
      const good = [auditEvent('t1'), auditEvent('t1')];
      await archive.append([{ event: good[0]!, link: link(1) }]);
      const [notJson, otherTenant] = [randomUUID(), auditEvent('t2')];
      const time = new Date('2026-11-25T10:00:00Z');
      await records.insertMany([
        { _id: notJson, tenant: 't1', seq: 1, time, order: 0, record: '{ nope' },
        {
          _id: otherTenant.id,
          tenant: 't1',
          seq: 2,
          time,
          order: 0,
          record: JSON.stringify({ v: 1, event: otherTenant, link: link(2) }),
        },
      ]);
      await archive.append([{ event: good[1]!, link: link(2) }]);
      expect((await archive.records('t1', 1, 2)).map((r) => r.event.id)).toEqual(good.map((e) => e.id));
      expect(corrupt).toEqual([
        [notJson, 'not JSON'],
        [otherTenant.id, "its tenant is not the record's"],
      ]);
      expect(await archive.getById(otherTenant.id)).toBeNull();
      expect((await archive.query({ tenant: 't1' }, null, 10)).records.map((r) => r.event.id)).toEqual(
        good.map((e) => e.id),
      );
    });

    it('returns records sharing a seq, which only tampering stores, in storage order', async () => {
      const { archive } = await open();
      const [a, b, c] = [auditEvent('t1'), auditEvent('t1'), auditEvent('t1')];
      await archive.append([{ event: a, link: link(1) }]);
      await archive.append([{ event: c, link: link(2) }]);
      await archive.append([{ event: b, link: link(1) }]);
      expect((await archive.records('t1', 1, 10)).map((r) => r.event.id)).toEqual([a.id, b.id, c.id]);
      expect((await archive.records('t1', 1, 1)).map((r) => r.event.id)).toEqual([a.id]);
    });

    it('gives back arguments whose keys BSON could not store unchanged', async () => {
      const { archive } = await open();
      const args = {
        digest: `sha256:${hex('a')}`,
        redacted: { $ref: 'x', $id: 1, 'a.b': { $gt: '' }, 'nul\u0000key': '\ud800', n: 2 ** 53 - 1 },
      };
      const event = auditEvent('t1', { kind: 'request-received', arguments: args });
      const [result] = await archive.append([{ event, link: link(1) }]);
      expect(result?.record.event).toMatchObject({ arguments: args });
      expect(await archive.getById(event.id)).toEqual(result!.record);
      expect((await archive.records('t1', 1, 1))[0]).toEqual(result!.record);
    });

    it('opens from a connection string and closes only the connection it made', async () => {
      const dbName = isolated();
      const own = await MongoAuditArchive.open(url!, { dbName });
      await expect(own.ping()).resolves.toBeUndefined();
      await own.close();
      const shared = await MongoAuditArchive.open(client, { dbName });
      await shared.close();
      await expect(shared.ping()).resolves.toBeUndefined();
    });
  });
});

function byName(a: { name?: string | undefined }, b: { name?: string | undefined }): number {
  return (a.name ?? '').localeCompare(b.name ?? '');
}
