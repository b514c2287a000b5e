/**
 * Live records of one tenant as the archiver writes them, read through the AuditArchive port, so the tail
 * works the same on every adapter (the embedded JetStream one and MongoDB): the feed asks for the records
 * after the last one it gave, and when there are none waits `pollMs` before asking again. Records come in
 * chain order; each carries its chain seq, the SSE event id a reconnecting client sends back as
 * `Last-Event-ID`. One read returns at most one batch, and the next is read only when the reader asks, so
 * a slow reader holds a bounded number of records in memory.
 */
import type { ArchiveRecord, AuditArchive } from '@meshgate/store';

/** One archived record and its chain seq (the SSE event id). */
export interface LiveRecord {
  seq: number;
  record: ArchiveRecord;
}

/** An open feed: iterate it for records; `stop()` ends the iteration. */
export interface LiveFeed extends AsyncIterable<LiveRecord> {
  stop(): Promise<void>;
}

/**
 * Opens a feed of `tenant`'s records after chain seq `after`; null starts at the head's latest claim, so a
 * batch being written as the tail opens is not missed.
 */
export type OpenFeed = (tenant: string, after: number | null) => Promise<LiveFeed>;

/** Records held at once per feed: one read. */
const BATCH = 64;

/** The feed factory over `archive`; an idle feed looks for new records every `pollMs`. */
export function archiveFeed(archive: AuditArchive, opts: { pollMs?: number } = {}): OpenFeed {
  const pollMs = opts.pollMs ?? 250;
  return async (tenant, after) => {
    const head = after === null ? await archive.head(tenant) : null;
    let next = after !== null ? after + 1 : (head?.claimed[0]?.seq ?? 1);
    let stopped = false;
    let wake: (() => void) | undefined;
    const pause = () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    return {
      async *[Symbol.asyncIterator]() {
        while (!stopped) {
          const records = await archive.records(tenant, next, BATCH);
          for (const record of records) {
            if (stopped) return;
            yield { seq: record.link.seq, record };
            next = Math.max(next, record.link.seq + 1);
          }
          if (records.length < BATCH && !stopped) await pause();
        }
      },
      stop: () => {
        stopped = true;
        wake?.();
        return Promise.resolve();
      },
    };
  };
}
