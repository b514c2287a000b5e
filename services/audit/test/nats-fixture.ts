/**
 * Isolation on the shared test NATS: archive stream, audit stream, consumer, dead letter and buckets with
 * unique names, removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { JsAuditArchiveOptions } from '@meshgate/store';
import type { AuditConfig } from '../src/config';

/** Names of one isolated test: an archive, and the streams a service instance uses. */
export interface Isolated {
  id: string;
  archive: Required<
    Pick<JsAuditArchiveOptions, 'stream' | 'subjectPrefix' | 'headBucket' | 'checkpointBucket'>
  >;
  /** Audit events of this test are published on `<auditPrefix>.<tenant>.<kind>`. */
  auditPrefix: string;
  config: Pick<AuditConfig, 'stream' | 'consumer' | 'deadLetter'>;
}

/** Fresh names for one test. */
export function isolate(): Isolated {
  const id = randomBytes(5).toString('hex');
  const auditPrefix = `mgtest.audit.${id}`;
  return {
    id,
    archive: {
      stream: `MG_TEST_ARCHIVE_${id}`,
      subjectPrefix: `mgtest.archive.${id}`,
      headBucket: `mg_test_heads_${id}`,
      checkpointBucket: `mg_test_cps_${id}`,
    },
    auditPrefix,
    config: {
      stream: {
        name: `MG_TEST_AUDIT_${id}`,
        subjects: `${auditPrefix}.>`,
        maxAgeMs: 3_600_000,
        maxBytes: 64 * 1024 ** 2,
        replicas: 1,
      },
      consumer: { durable: 'audit-archiver', maxAckPending: 64, ackWaitMs: 2_000, batchWaitMs: 20 },
      deadLetter: { stream: `MG_TEST_DEAD_${id}`, subject: `mgtest.dead.${id}` },
    },
  };
}

/** Deletes every stream and bucket of `iso`. */
export async function cleanup(nc: NatsConnection, iso: Isolated): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const s of [iso.archive.stream, iso.config.stream.name, iso.config.deadLetter.stream])
    await jsm.streams.delete(s).catch(() => false);
  const kvm = new Kvm(nc);
  for (const b of [iso.archive.headBucket, iso.archive.checkpointBucket])
    await (await kvm.open(b)).destroy().catch(() => false);
}
