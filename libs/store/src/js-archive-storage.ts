/**
 * The JetStream resources of the embedded archive, created when missing: the archive stream (subjects
 * `<prefix>.*.*`, file storage, a ten-minute duplicate window) and the KV buckets of chain heads and
 * checkpoints. Replicas starting together race to create them; the loser's second attempt finds what the
 * winner made (nats-server 2.9 answers the race with "subjects overlap").
 */
import type { Kvm, KV } from '@nats-io/kv';
import { JetStreamApiCodes, JetStreamApiError, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';

/**
 * Binds to the archive stream, creating it with a retention of `maxAgeMs` (0: forever) when it is missing;
 * refuses a stream with other subjects (an earlier build's layout).
 */
export async function ensureArchiveStream(
  jsm: JetStreamManager,
  stream: string,
  prefix: string,
  maxAgeMs: number,
): Promise<void> {
  const subjects = [`${prefix}.*.*`];
  const ensure = () =>
    jsm.streams.info(stream).then(
      (info) => {
        if (info.config.subjects.join() !== subjects.join())
          throw new Error(
            `the archive stream ${stream} has subjects ${info.config.subjects.join(', ')}, not ${subjects[0]}: ` +
              'it was made by an earlier Meshgate build with another record layout; move it aside or delete it',
          );
      },
      async (err: unknown) => {
        if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
        await jsm.streams.add({
          name: stream,
          subjects,
          storage: StorageType.File,
          max_age: nanos(maxAgeMs),
          duplicate_window: nanos(10 * 60_000),
        });
      },
    );
  await ensure().catch(ensure);
}

/** Binds to a KV bucket of one revision per key, creating it (file storage) when it is missing. */
export function ensureBucket(kvm: Kvm, name: string): Promise<KV> {
  const create = () => kvm.create(name, { history: 1, storage: StorageType.File });
  return create().catch(create);
}
