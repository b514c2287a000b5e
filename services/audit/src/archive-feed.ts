/**
 * Live records of one tenant as the archiver writes them: a JetStream ordered consumer per tail on the
 * archive stream, filtered by the tenant's subject, so events arrive in archive (chain) order. It starts
 * just after the stream's last message, or after a given stream sequence (a reconnecting SSE client's
 * `Last-Event-ID`). The consumer pulls small batches as the reader asks, so a slow reader holds a bounded
 * number of records in memory and falls behind in the stream instead.
 */
import { jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ArchiveRecord } from '@meshgate/store';

/** One archived record and its position in the archive stream (the SSE event id). */
export interface LiveRecord {
  streamSeq: number;
  record: ArchiveRecord;
}

/** An open feed: iterate it for records; `stop()` ends the iteration and releases the consumer. */
export interface LiveFeed extends AsyncIterable<LiveRecord> {
  stop(): Promise<void>;
}

/** Opens a feed of `tenant`'s records after stream sequence `after` (null: only records archived from now). */
export type OpenFeed = (tenant: string, after: number | null) => Promise<LiveFeed>;

/** Where the archive's records are: its stream and the subject prefix (`<prefix>.<tenant>`). */
export interface ArchiveLocation {
  stream: string;
  subjectPrefix: string;
}

/** Records held at once per feed: one pull batch. */
const BATCH = 64;

/** The feed factory on `nc`; `onCorrupt` hears of records that cannot be read (they are skipped). */
export function archiveFeed(
  nc: NatsConnection,
  where: ArchiveLocation,
  onCorrupt: (streamSeq: number, reason: string) => void,
): OpenFeed {
  const js = jetstream(nc);
  return async (tenant, after) => {
    const start =
      after ?? (await jetstreamManager(nc).then((jsm) => jsm.streams.info(where.stream))).state.last_seq;
    const consumer = await js.consumers.get(where.stream, {
      filter_subjects: `${where.subjectPrefix}.${tenant}`,
      opt_start_seq: start + 1,
      inactive_threshold: 60_000,
    });
    const messages: ConsumerMessages = await consumer.consume({ max_messages: BATCH });
    return {
      async *[Symbol.asyncIterator]() {
        for await (const msg of messages) {
          let raw: unknown;
          try {
            raw = msg.json();
          } catch {
            onCorrupt(msg.seq, 'not JSON');
            continue;
          }
          const parsed = ArchiveRecord.safeParse(raw);
          if (parsed.success) yield { streamSeq: msg.seq, record: parsed.data };
          else onCorrupt(msg.seq, 'not an archive record');
        }
      },
      stop: async () => {
        await messages.close().catch(() => undefined);
      },
    };
  };
}
