/**
 * GET with Last-Event-ID, on any replica: replays the events of that stream after that id from
 * `MG_EVENTS`. A POST stream is then followed live until its final response (or its deadline); a GET
 * stream continues as the session's standalone stream under the same stream id. A malformed, unknown or
 * expired id is refused with 400 (as the MCP SDK's server does): 404 would tell the agent its session is
 * gone. A POST stream that has nothing left after the id answers 204, which stops SSE clients reconnecting.
 */
import type { FastifyReply } from 'fastify';
import { ErrorCodes, errorResponse, type SessionRecord } from '@meshgate/contracts';
import type { IngressContext } from './context';
import type { StoredEvent } from './event-log';
import { parseEventId } from './event-id';
import { openSessionStream } from './session-stream';
import { SseStream } from './sse-stream';
import { agentLeft, sendRpcError } from './http-replies';

/** How long a GET-stream replay may take to catch up with the log. */
const CATCH_UP_MS = 5000;
/** How long past a call's deadline a resumer waits for its final response before giving up. */
const FINAL_GRACE_MS = 2000;

/** Handles a GET carrying Last-Event-ID for a known session. */
export async function resume(
  ctx: IngressContext,
  reply: FastifyReply,
  record: SessionRecord,
  lastEventId: string,
): Promise<unknown> {
  const sid = record.session.id;
  const at = parseEventId(lastEventId);
  const last = at ? await ctx.events.last(sid, at.streamId) : null;
  if (!at || !last)
    return sendRpcError(
      reply,
      400,
      errorResponse(null, ErrorCodes.InvalidRequest, 'Bad Request: unknown or expired Last-Event-ID'),
    );
  if (last.kind === 'get')
    return openSessionStream(
      ctx,
      reply,
      record,
      { streamId: at.streamId, firstSeq: last.seq + 1, fresh: false },
      (sse, signal) =>
        ctx.events
          .replay(sid, at.streamId, {
            afterSeq: at.seq,
            follow: false,
            until: Date.now() + CATCH_UP_MS,
            signal,
            onEvent: (e) => sse.sendStored(e),
          })
          .then(() => undefined),
    );
  if (last.final && last.seq <= at.seq) return reply.code(204).send();
  return followCall(ctx, reply, record, { streamId: at.streamId, afterSeq: at.seq }, last);
}

/** Replays a POST stream and follows it until its final response; past the deadline, answers with a timeout. */
async function followCall(
  ctx: IngressContext,
  reply: FastifyReply,
  record: SessionRecord,
  from: { streamId: string; afterSeq: number },
  last: StoredEvent,
): Promise<unknown> {
  const sid = record.session.id;
  const res = reply.raw;
  const stopped = new AbortController();
  if (agentLeft(reply)) return;
  const lease = ctx.streams.acquire(sid, 'stream', () => stopped.abort());
  if (!lease)
    return sendRpcError(reply, 429, errorResponse(null, ErrorCodes.Overloaded, 'Too many open streams'));
  reply.hijack();
  res.once('close', () => {
    lease.release();
    stopped.abort();
  });
  const deadline = last.deadline ?? Date.now() + ctx.config.requestTimeoutMs;
  const requestId = last.requestId;
  const sse = new SseStream({
    res,
    sessionId: sid,
    streamId: from.streamId,
    kind: 'post',
    firstSeq: last.seq + 1,
    fresh: false,
    priming: false,
    retryMs: ctx.config.retryMs,
    keepAliveMs: ctx.config.keepAliveMs,
    log: ctx.events,
    headers: { 'mcp-session-id': sid },
    ...(requestId !== undefined ? { request: { id: requestId, deadline } } : {}),
    onOpenChange: (d) => ctx.metrics.sseStreams.inc(d),
  });
  sse.open();
  try {
    const result = await ctx.events.replay(sid, from.streamId, {
      afterSeq: from.afterSeq,
      follow: true,
      until: deadline + FINAL_GRACE_MS,
      signal: stopped.signal,
      onEvent: (e) => sse.sendStored(e),
    });
    if (!result.final && !stopped.signal.aborted && requestId !== undefined)
      sse.send(errorResponse(requestId, ErrorCodes.RequestTimeout, 'Request timed out'), true);
  } catch (err) {
    ctx.logger.error({ err }, 'replay failed');
  }
  sse.end();
}
