/**
 * The audit stream against the test NATS: created with the configured shape, idempotent, realigned when
 * options change, and deduplicating by `Nats-Msg-Id`. A stream of its own name and subjects keeps the test
 * apart from every other user of the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { ensureAuditStream } from '../src/stream';

let nc: NatsConnection;
let jsm: JetStreamManager;
const suffix = randomBytes(5).toString('hex');
const name = `MG_AUDIT_TEST_${suffix}`;
const subjects = [`mg.test-audit.${suffix}.>`];

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await jsm.streams.delete(name).catch(() => false);
  await nc.drain();
});

describe('ensureAuditStream', () => {
  it('creates the stream with file storage, retention, replicas and a duplicate window, idempotently', async () => {
    const first = await ensureAuditStream(jsm, { name, subjects, maxAgeMs: 86_400_000, maxBytes: 1024 ** 2 });
    const second = await ensureAuditStream(jsm, {
      name,
      subjects,
      maxAgeMs: 86_400_000,
      maxBytes: 1024 ** 2,
    });
    for (const info of [first, second]) {
      expect(info.config).toMatchObject({
        name,
        subjects,
        storage: StorageType.File,
        max_age: nanos(86_400_000),
        max_bytes: 1024 ** 2,
        num_replicas: 1,
        duplicate_window: nanos(3_600_000),
      });
    }
    expect(second.created).toEqual(first.created);
  });

  it('leaves an existing stream as its operator configured it, messages and all', async () => {
    await ensureAuditStream(jsm, { name, subjects });
    await jetstream(nc).publish(`mg.test-audit.${suffix}.keep`, 'kept');
    const edited = await jsm.streams.info(name);
    await jsm.streams.update(name, { ...edited.config, max_age: nanos(7_200_000) });
    const info = await ensureAuditStream(jsm, { name, subjects, maxAgeMs: 86_400_000 });
    expect(info.config.max_age).toBe(nanos(7_200_000));
    expect(info.state.messages).toBeGreaterThanOrEqual(1);
  });

  it('stores an id published twice once (the duplicate window works)', async () => {
    await ensureAuditStream(jsm, { name, subjects });
    const subject = `mg.test-audit.${suffix}.dedupe`;
    const js = jetstream(nc);
    const first = await js.publish(subject, 'one', { msgID: `dup-${suffix}` });
    const again = await js.publish(subject, 'one', { msgID: `dup-${suffix}` });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(first.seq);
    const info = await jsm.streams.info(name, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBe(1);
  });

  it('refuses a duplicate window under ten minutes or longer than the retention', async () => {
    await expect(ensureAuditStream(jsm, { name, subjects, duplicateWindowMs: 60_000 })).rejects.toThrow(
      /duplicateWindowMs/,
    );
    await expect(
      ensureAuditStream(jsm, { name, subjects, maxAgeMs: 700_000, duplicateWindowMs: 800_000 }),
    ).rejects.toThrow(/cannot exceed maxAgeMs/);
  });
});
