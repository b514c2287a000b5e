/**
 * The live tail as Server-Sent Events: each archived record that matches the filters becomes one event
 * (`id` = its chain seq, so a client reconnecting with `Last-Event-ID` misses nothing;
 * `event: audit`; `data` = the record as one JSON line). A comment every `keepAliveMs` keeps proxies from
 * closing an idle stream. Writes respect back-pressure: the next record is read only when the socket
 * has taken the previous one, so a slow client costs at most one pull batch of memory.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { matchesAuditQuery } from '@meshgate/store';
import type { LiveFeed } from './archive-feed';
import type { AuditFilters } from './api-query';

export interface TailStream {
  /** Resolves when the stream has ended (client gone, feed ended, or `stop()`). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Writes `feed` to `res` as SSE until the client leaves or `stop()` is called. */
export function streamTail(
  res: ServerResponse,
  feed: LiveFeed,
  filters: AuditFilters,
  opts: { keepAliveMs: number; log: FastifyBaseLogger },
): TailStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-store',
    'x-accel-buffering': 'no',
    // A tail's connection is not reused: it closes with the stream.
    connection: 'close',
  });
  res.write(`retry: 2000\n: tailing the audit trail of tenant ${filters.tenant}\n\n`);
  const keepAlive = setInterval(() => {
    if (!res.writableNeedDrain) res.write(': keep-alive\n\n');
  }, opts.keepAliveMs);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(keepAlive);
      await feed.stop();
      if (!res.writableEnded) res.end();
    })());
  res.once('close', () => void stop());

  const pump = async () => {
    try {
      for await (const { seq, record } of feed) {
        if (res.destroyed) break;
        if (!matchesAuditQuery(record.event, filters)) continue;
        if (!res.write(`id: ${seq}\nevent: audit\ndata: ${JSON.stringify(record)}\n\n`)) await drained(res);
      }
    } catch (err) {
      opts.log.error({ err }, 'audit tail failed');
      if (!res.destroyed)
        res.write(
          `event: error\ndata: ${JSON.stringify({ detail: 'the audit tail failed; reconnect' })}\n\n`,
        );
    }
    await stop();
  };
  return { done: pump(), stop };
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
