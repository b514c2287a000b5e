/** Publishes acknowledged on one subscription: every outcome a JetStream publish can have. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { StreamAcks } from '../src/stream-acks';

let nc: NatsConnection;
const id = randomBytes(5).toString('hex');
const stream = `MG_TEST_ACKS_${id}`;
const subject = `mgtest.acks.${id}`;

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${subject}.stored`] });
});
afterAll(async () => {
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  await nc.drain();
});

describe('StreamAcks', () => {
  it('resolves once the stream stored the message, and once more for a duplicate, storing it once', async () => {
    const acks = new StreamAcks(nc, 2_000);
    await acks.publish(`${subject}.stored`, '{"n":1}', `${id}-1`);
    await acks.publish(`${subject}.stored`, '{"n":1}', `${id}-1`);
    await acks.publish(`${subject}.stored`, '{"n":2}', `${id}-2`);
    expect(acks.pending).toBe(0);
    acks.close();
    const info = await (await jetstreamManager(nc)).streams.info(stream);
    expect(info.state.messages).toBe(2);
    const first = await (
      await jetstreamManager(nc)
    ).streams.getMessage(stream, { seq: info.state.first_seq });
    expect(first?.header?.get('Nats-Msg-Id')).toBe(`${id}-1`);
  });

  it('rejects when no stream takes the subject, when the answer is not an acknowledgement, and when none comes', async () => {
    const acks = new StreamAcks(nc, 300);
    await expect(acks.publish(`${subject}.nowhere`, '{}', 'x')).rejects.toThrow(
      /no stream took the message \(503/,
    );
    const junk = nc.subscribe(`${subject}.junk`, { callback: (_err, m) => void m.respond('not json') });
    const refusing = nc.subscribe(`${subject}.refused`, {
      callback: (_err, m) =>
        void m.respond(JSON.stringify({ error: { code: 500, description: 'no space' } })),
    });
    const silent = nc.subscribe(`${subject}.silent`, { callback: () => undefined });
    await nc.flush();
    await expect(acks.publish(`${subject}.junk`, '{}', 'y')).rejects.toThrow(
      /something else than an acknowledgement/,
    );
    await expect(acks.publish(`${subject}.refused`, '{}', 'z')).rejects.toThrow(
      /refused the message: no space/,
    );
    await expect(acks.publish(`${subject}.silent`, '{}', 'w')).rejects.toThrow(
      /no acknowledgement within 300 ms/,
    );
    expect(acks.pending).toBe(0);
    const waiting = acks.publish(`${subject}.silent`, '{}', 'v');
    acks.close();
    await expect(waiting).rejects.toThrow(/stopped/);
    for (const sub of [junk, refusing, silent]) sub.unsubscribe();
  });
});
