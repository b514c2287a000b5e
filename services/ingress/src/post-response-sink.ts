/**
 * The Streamable HTTP answer to a POST: plain JSON when the answer comes before anything else, an SSE
 * stream (priming event for agents that accept it, every event recorded for resumption) from the moment
 * a related message comes first. `openPostStream` is shared with the answer of a batch (batch-answer.ts).
 */
import type { ServerResponse } from 'node:http';
import type { JsonRpcId, SessionRecord } from '@meshgate/contracts';
import type { ExchangeSink } from './call-exchange';
import type { IngressContext } from './context';
import { newStreamId } from './event-id';
import { supportsPriming } from './protocol';
import { SseStream } from './sse-stream';
import { writeJson } from './http-replies';

/** Opens the SSE answer of a POST; `request` names the single request it answers, if it answers one. */
export function openPostStream(
  ctx: IngressContext,
  res: ServerResponse,
  record: SessionRecord,
  request?: { id: JsonRpcId; deadline: number },
): SseStream {
  const sid = record.session.id;
  const stream = new SseStream({
    res,
    sessionId: sid,
    streamId: newStreamId(),
    kind: 'post',
    firstSeq: 1,
    fresh: true,
    priming: supportsPriming(record.session.protocolVersion),
    retryMs: ctx.config.retryMs,
    keepAliveMs: ctx.config.keepAliveMs,
    log: ctx.events,
    headers: { 'mcp-session-id': sid },
    ...(request ? { request } : {}),
    onOpenChange: (d) => ctx.metrics.sseStreams.inc(d),
  });
  stream.open();
  return stream;
}

/** The sink of one request POSTed alone, answering on the hijacked response `res`. */
export function postResponseSink(
  ctx: IngressContext,
  res: ServerResponse,
  record: SessionRecord,
  request: { id: JsonRpcId; deadline: number },
): ExchangeSink {
  let sse: SseStream | null = null;
  return {
    related(message) {
      sse ??= openPostStream(ctx, res, record, request);
      sse.send(message);
    },
    answer(response, refused) {
      try {
        if (sse) {
          if (response) sse.send(response, true);
          sse.end();
          return sse.bytesWritten;
        }
        if (!response) return 0;
        return writeJson(res, refused ? 429 : 200, response, { 'mcp-session-id': record.session.id });
      } catch (err) {
        // An answer that cannot be serialized must not leave the agent waiting on an open connection.
        ctx.logger.error({ err }, 'could not write the answer');
        res.destroy();
        return 0;
      }
    },
    onAbandon(abandon) {
      res.once('close', () => {
        if (!sse) abandon();
      });
    },
  };
}
