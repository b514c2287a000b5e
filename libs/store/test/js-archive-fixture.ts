/**
 * What the embedded archive's tests share: one connection to the test NATS, archives on streams and
 * buckets of their own (removed after the file), and a connection that counts the requests made through it.
 */
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { JsAuditArchiveOptions } from '../src/index';

/** The test NATS and the isolated archives made on it. */
export class JsArchiveFixture {
  private readonly made: JsAuditArchiveOptions[] = [];

  private constructor(readonly nc: NatsConnection) {}

  static async connect(): Promise<JsArchiveFixture> {
    return new JsArchiveFixture(
      await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' }),
    );
  }

  /** Names of a stream, subjects and buckets no other test uses. */
  isolated(): JsAuditArchiveOptions {
    const id = randomBytes(5).toString('hex');
    const opts = {
      stream: `MG_TEST_ARCHIVE_${id}`,
      subjectPrefix: `mgtest.archive.${id}`,
      headBucket: `mg_test_heads_${id}`,
      checkpointBucket: `mg_test_cps_${id}`,
    };
    this.made.push(opts);
    return opts;
  }

  /** Removes every stream and bucket made, and closes the connection. */
  async close(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const kvm = new Kvm(this.nc);
    for (const o of this.made) {
      await jsm.streams.delete(o.stream!).catch(() => false);
      for (const b of [o.headBucket!, o.checkpointBucket!])
        await (await kvm.open(b)).destroy().catch(() => false);
    }
    await this.nc.drain();
  }
}

/** `nc` with every request (JetStream API calls and publishes alike) recorded by subject in `subjects`. */
export function countingConnection(nc: NatsConnection): { nc: NatsConnection; subjects: string[] } {
  const subjects: string[] = [];
  const counted = new Proxy(nc, {
    get(target, prop) {
      if (prop === 'request')
        return (
          subject: string,
          ...rest: Parameters<NatsConnection['request']> extends [string, ...infer R] ? R : never
        ) => {
          subjects.push(subject);
          return target.request(subject, ...rest);
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { nc: counted, subjects };
}
