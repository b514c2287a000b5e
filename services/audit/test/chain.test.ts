/** The hash chain, pure: the hash is sha256 of prevHash and the RFC 8785 form, whatever the key order. */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, canonical, linkHash, linkHolds, nextLink } from '../src/chain';
import { ReadEvent } from '../src/read-event';
import { responseSent } from './events';

describe('chain', () => {
  it('starts at seq 1 after 64 zeros and hashes prevHash then the canonical event', () => {
    const e = responseSent('t1', 1);
    const first = nextLink(null, e);
    expect(first.seq).toBe(1);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
    const expected = createHash('sha256')
      .update(GENESIS_HASH + canonical(e))
      .digest('hex');
    expect(first.hash).toBe(expected);
    const second = nextLink({ seq: 1, hash: first.hash }, responseSent('t1', 2));
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
  });

  it('uses the canonical form: key order does not matter, content does', () => {
    const e = responseSent('t1', 3);
    const reordered = Object.fromEntries(Object.entries(e).reverse()) as typeof e;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(e));
    expect(linkHash(GENESIS_HASH, reordered)).toBe(linkHash(GENESIS_HASH, e));
    expect(canonical({ b: 1, a: [2, 'x'] })).toBe('{"a":[2,"x"],"b":1}');
    const link = nextLink(null, e);
    expect(linkHolds(e, link)).toBe(true);
    expect(linkHolds({ ...e, latencyMs: 4 }, link)).toBe(false);
    expect(linkHolds(e, { ...link, prevHash: 'f'.repeat(64) })).toBe(false);
  });

  it('hashes a read event by its text as the event it stands for, beyond ASCII too', () => {
    const e = { ...responseSent('t1', 4), principal: 'agent-café-☕' };
    const read = ReadEvent.of(e);
    expect(read.text()).toBe(canonical(e));
    expect(linkHash(GENESIS_HASH, read)).toBe(linkHash(GENESIS_HASH, e));
    const link = nextLink({ seq: 7, hash: 'a'.repeat(64) }, read);
    expect(linkHolds(e, link)).toBe(true);
    // The text is what counts: one from another event's text does not hold.
    const other = ReadEvent.of(responseSent('t1', 5));
    const forged = new ReadEvent(read.id, read.tenant, read.time, other.json);
    expect(linkHolds(forged, link)).toBe(false);
    expect(forged.sameAs(e)).toBe(false);
    expect(read.sameAs(e) && read.sameAs(ReadEvent.of(e))).toBe(true);
    // Its event is parsed from the text where it came without one.
    expect(new ReadEvent(read.id, read.tenant, read.time, read.json).event).toEqual(e);
  });
});
