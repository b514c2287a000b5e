/** The id index of the embedded archive without a server: lookups, eviction and its horizon, and parsing. */
import { describe, expect, it } from 'vitest';
import { ArchiveIndex, indexedMessage } from '../src/js-archive-index';

const msg = (seq: number, ids: string[], tenant = 't1') => ({ seq, tenant, timeMs: seq * 1_000, ids });
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('ArchiveIndex', () => {
  it('finds each id in its message, at its position, the latest copy of an id stored twice', () => {
    const index = new ArchiveIndex(100, 5, true);
    expect(index.seen).toBe(4);
    index.add(msg(5, ['a', 'b', 'c']));
    index.add(msg(8, ['d'], 't2'));
    index.add(msg(9, ['b']));
    expect(index.find('c')).toEqual({ tenant: 't1', seq: 5, pos: 2 });
    expect(index.find('d')).toEqual({ tenant: 't2', seq: 8, pos: 0 });
    expect(index.find('b')).toEqual({ tenant: 't1', seq: 9, pos: 0 });
    expect(index.find('x')).toBeUndefined();
    expect(index.seen).toBe(9);
    expect(() => index.add(msg(9, ['e']))).toThrow(RangeError);
  });

  it('drops its oldest messages when it outgrows its size, moving the horizon to the oldest one kept', () => {
    const index = new ArchiveIndex(4, 1, true);
    index.add(msg(1, ['a', 'b']));
    index.add(msg(2, ['c', 'a']));
    expect([index.horizon, index.complete, index.size]).toEqual([1, true, 3]);
    index.add(msg(3, ['d', 'e']));
    expect([index.horizon, index.complete, index.size]).toEqual([2, false, 4]);
    // `a` was stored again in message 2, so dropping message 1 keeps it.
    expect(index.find('a')).toEqual({ tenant: 't1', seq: 2, pos: 1 });
    expect(index.find('b')).toBeUndefined();
    expect(index.oldest?.timeMs).toBe(2_000);
  });

  it('keeps the newest message whatever its size', () => {
    const index = new ArchiveIndex(2, 1, true);
    index.add(msg(1, ['a']));
    index.add(msg(2, ['b', 'c', 'd']));
    expect([index.horizon, index.size]).toEqual([2, 3]);
    expect(index.find('d')?.seq).toBe(2);
  });

  it('learns the time of its oldest message', () => {
    const index = new ArchiveIndex(10, 1, false);
    index.add({ seq: 3, tenant: 't1', timeMs: undefined, ids: ['a'] });
    index.setOldestTime(4, 9);
    expect(index.oldest?.timeMs).toBeUndefined();
    index.setOldestTime(3, 7);
    expect(index.oldest?.timeMs).toBe(7);
  });
});

describe('indexedMessage', () => {
  const id = '6f1c9f0e-4a57-4f7e-9b1a-3c2d1e0f9a8b';

  it('reads the ids of a single record and of a block, null where a record has none', () => {
    expect(indexedMessage(1, 't1', 5, encode({ v: 1, event: { id } })).ids).toEqual([id]);
    expect(indexedMessage(2, 't1', 5, encode({ v: 2, records: [{ event: { id } }, { v: 1 }] })).ids).toEqual([
      id,
      null,
    ]);
  });

  it('indexes a message that is not JSON with no ids', () => {
    expect(indexedMessage(3, 't1', 5, new TextEncoder().encode('{ nope'))).toEqual({
      seq: 3,
      tenant: 't1',
      timeMs: 5,
      ids: [],
    });
  });
});
