/** Reading messages of the audit stream: one event, a batch, and everything that cannot be archived. */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readStreamMessage } from '../src/event-message';
import { responseSent } from './events';

const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const subject = 'mg.audit.acme.response-sent';

describe('readStreamMessage', () => {
  it('reads one event, and a batch in order', () => {
    const [a, b] = [responseSent('acme', 1), responseSent('acme', 2)];
    expect(readStreamMessage(subject, bytes(a))).toEqual({ ok: true, events: [a], rejected: [] });
    expect(readStreamMessage(subject, bytes({ batch: randomUUID(), events: [a, b] }))).toEqual({
      ok: true,
      events: [a, b],
      rejected: [],
    });
  });

  it('refuses a whole message that is not JSON, not an event, or a malformed batch', () => {
    expect(readStreamMessage(subject, bytes('{ nope'))).toEqual({
      ok: false,
      reason: 'payload is not UTF-8 JSON',
    });
    expect(readStreamMessage(subject, new Uint8Array([0x7b, 0xff, 0x7d]))).toMatchObject({ ok: false });
    expect(readStreamMessage(subject, bytes({ v: 2 }))).toMatchObject({
      ok: false,
      reason: /not an AuditEvent v1/,
    });
    const surrogate = JSON.stringify({ ...responseSent('acme', 1), instance: 'x' }).replace(
      '"x"',
      '"\\ud800"',
    );
    expect(readStreamMessage(subject, bytes(surrogate))).toMatchObject({
      ok: false,
      reason: /Lone surrogate/,
    });
    const other = responseSent('globex', 1);
    expect(readStreamMessage(subject, bytes(other))).toMatchObject({ ok: false, reason: /do not match/ });
    for (const batch of [
      { batch: 'not-a-uuid', events: [responseSent('acme')] },
      { batch: randomUUID(), events: [] },
      { batch: randomUUID(), events: Array.from({ length: 257 }, () => responseSent('acme')) },
      { batch: randomUUID(), events: 'x' },
    ])
      expect(readStreamMessage(subject, bytes(batch))).toMatchObject({
        ok: false,
        reason: /not an AuditBatch/,
      });
  });

  it('keeps the valid events of a batch and rejects each invalid one with its index and JSON', () => {
    const [a, b] = [responseSent('acme', 1), responseSent('acme', 2)];
    const wrongKind = { ...responseSent('acme', 3), kind: 'cache-hit' };
    const read = readStreamMessage(
      subject,
      bytes({ batch: randomUUID(), events: [a, 'junk', b, wrongKind] }),
    );
    expect(read.ok && read.events).toEqual([a, b]);
    expect(read.ok && read.rejected.map((r) => [r.index, new TextDecoder().decode(r.data)])).toEqual([
      [1, '"junk"'],
      [3, JSON.stringify(wrongKind)],
    ]);
  });
});
