/**
 * The session's standalone SSE stream, carrying what belongs to no request (list_changed,
 * resources/updated, unrelated logs) from `mg.v1.session.<sid>.to-agent`. Any number of streams per
 * session may be open at once, on any replica, within the stream limits.
 */
import type { FastifyReply } from 'fastify';
import { decodeJson } from '@meshgate/bus';
import { ErrorCodes, Subjects, ToAgent, errorResponse, type SessionRecord } from '@meshgate/contracts';
import type { IngressContext } from './context';
import { supportsPriming } from './protocol';
import { SseStream } from './sse-stream';
import { agentLeft, sendRpcError } from './http-replies';

/** Messages held while a resumed stream replays its past; beyond that the newest are dropped. */
const MAX_HELD = 1000;

/** Where a standalone stream starts: its id, first seq, and whether it is new. */
export interface StreamPosition {
  streamId: string;
  firstSeq: number;
  fresh: boolean;
}

/**
 * Opens a standalone stream at `at`. The subscription is live (flushed to the server) before the agent
 * sees the stream; `replayFirst` writes past events before live ones, which are held meanwhile.
 */
export async function openSessionStream(
  ctx: IngressContext,
  reply: FastifyReply,
  record: SessionRecord,
  at: StreamPosition,
  replayFirst?: (sse: SseStream, signal: AbortSignal) => Promise<void>,
): Promise<unknown> {
  const sid = record.session.id;
  const res = reply.raw;
  let sse: SseStream | undefined;
  let live = false;
  const held: ToAgent['message'][] = [];
  if (agentLeft(reply)) return;
  const lease = ctx.streams.acquire(sid, 'stream', () => (sse ? sse.end() : res.destroy()));
  if (!lease)
    return sendRpcError(reply, 429, errorResponse(null, ErrorCodes.Overloaded, 'Too many open streams'));
  reply.hijack();
  const aborted = new AbortController();
  let unsubscribe = () => {};
  res.once('close', () => {
    unsubscribe();
    lease.release();
    aborted.abort();
  });
  try {
    const sub = ctx.bus.nc.subscribe(Subjects.sessionToAgent(sid), {
      callback: (err, msg) => {
        if (err) {
          ctx.logger.warn({ err }, 'session stream subscription failed');
          return;
        }
        try {
          const { message } = decodeJson(ToAgent, msg.data, 'to-agent');
          if (live && sse) sse.send(message);
          else if (held.length < MAX_HELD) held.push(message);
        } catch (e) {
          ctx.logger.warn({ err: e }, 'dropped a malformed message for the agent');
        }
      },
    });
    unsubscribe = () => sub.unsubscribe();
    await ctx.bus.nc.flush();
    sse = new SseStream({
      res,
      sessionId: sid,
      streamId: at.streamId,
      kind: 'get',
      firstSeq: at.firstSeq,
      fresh: at.fresh,
      priming: supportsPriming(record.session.protocolVersion),
      retryMs: ctx.config.retryMs,
      keepAliveMs: ctx.config.keepAliveMs,
      log: ctx.events,
      headers: { 'mcp-session-id': sid },
      onOpenChange: (d) => ctx.metrics.sseStreams.inc(d),
    });
    sse.open();
    if (replayFirst) await replayFirst(sse, aborted.signal);
  } catch (err) {
    ctx.logger.error({ err }, 'could not open a session stream');
    unsubscribe();
    res.destroy();
    return;
  }
  live = true;
  for (const message of held.splice(0)) sse.send(message);
}
