/**
 * A request of an open session, answered through the router in one NATS hop. The answer is plain JSON
 * when the router's reply comes first (the common case); the response turns into an SSE stream the moment
 * a related message (progress, log, sampling/elicitation/roots request) arrives first. An agent that
 * disconnects before any SSE event has nothing to resume, so its call is cancelled upstream; once events
 * were sent, the call runs on and its events stay replayable (spec: disconnection is not cancellation).
 */
import type { FastifyReply } from 'fastify';
import {
  ErrorCodes,
  Subjects,
  errorResponse,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type SessionRecord,
  type ToUpstream,
} from '@meshgate/contracts';
import type { AuditedRequest } from './audited-request';
import { pendingKey, type IngressContext } from './context';
import { callerOf } from './request-principal';
import { mapCallError, type CallOutcome } from './error-mapping';
import { newStreamId } from './event-id';
import { supportsPriming } from './protocol';
import { SseStream } from './sse-stream';
import type { StreamLease } from './stream-registry';
import { agentLeft, sendRpcError, writeJson } from './http-replies';

/** Code of a call ended because the agent cancelled it (as in LSP; MCP leaves it to the implementation). */
const REQUEST_CANCELLED = -32800;

/** Answers one agent request through the router; never throws and never leaves the connection hanging. */
export async function exchangeCall(
  ctx: IngressContext,
  reply: FastifyReply,
  record: SessionRecord,
  message: JsonRpcRequest,
  audited: AuditedRequest,
): Promise<void> {
  const started = Date.now();
  const sid = record.session.id;
  const caller = callerOf(reply.request);
  const deadline = started + ctx.config.requestTimeoutMs;
  const res = reply.raw;
  let finished = false;
  let sse: SseStream | null = null;
  let lease: StreamLease | null = null;

  // Gone before the call was sent: nothing to answer and nothing to cancel upstream.
  if (agentLeft(reply)) {
    ctx.metrics.observeCall(message.method, 'cancelled', started);
    audited.answered(null, 0, 'cancelled');
    return;
  }
  lease = ctx.streams.acquire(sid, 'call', (reason) =>
    finish(errorResponse(message.id, ErrorCodes.UpstreamUnavailable, `Call ended: ${reason}`), 'unavailable'),
  );
  if (!lease) {
    ctx.metrics.observeCall(message.method, 'rejected', started);
    await sendRpcError(reply, 429, errorResponse(message.id, ErrorCodes.Overloaded, 'Too many open streams'));
    return;
  }
  reply.hijack();

  const openSse = (): SseStream => {
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
      request: { id: message.id, deadline },
      onOpenChange: (d) => ctx.metrics.sseStreams.inc(d),
    });
    stream.open();
    return stream;
  };

  const channel = ctx.dispatcher.open((related) => {
    if (finished) return;
    sse ??= openSse();
    sse.send(related);
  });
  const key = pendingKey(sid, message.id);
  ctx.inflight.set(key, () =>
    finish(errorResponse(message.id, REQUEST_CANCELLED, 'Request cancelled'), 'cancelled'),
  );

  function finish(response: JsonRpcResponse | null, outcome: CallOutcome): void {
    if (finished) return;
    finished = true;
    channel.close();
    ctx.inflight.delete(key);
    lease?.release();
    ctx.metrics.observeCall(message.method, outcome, started);
    let bytes = 0;
    try {
      if (sse) {
        if (response) sse.send(response, true);
        sse.end();
        bytes = sse.bytesWritten;
      } else if (response) bytes = writeJson(res, 200, response, { 'mcp-session-id': sid });
    } catch (err) {
      // An answer that cannot be serialized must not leave the agent waiting on an open connection.
      ctx.logger.error({ err, method: message.method }, 'could not write the answer');
      res.destroy();
    }
    audited.answered(response, bytes, outcome);
  }

  res.once('close', () => {
    if (finished || sse) return;
    finish(null, 'cancelled');
    const cancel: ToUpstream = {
      v: 1,
      sessionId: sid,
      message: {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: message.id, reason: 'the agent closed the connection' },
      },
    };
    try {
      ctx.bus.publish(Subjects.sessionToUpstream(sid), cancel);
    } catch (err) {
      ctx.logger.warn({ err }, 'cancellation not relayed');
    }
  });

  try {
    const answer = await ctx.router.call(
      record,
      {
        v: 1,
        session: record.session,
        message,
        stream: channel.subject,
        clientAddress: reply.request.ip.slice(0, 64),
        ...(caller.token !== undefined ? { subjectToken: caller.token } : {}),
      },
      { deadline, traceparent: audited.traceparent },
    );
    finish(answer.message, 'error' in answer.message ? 'error' : 'ok');
  } catch (err) {
    const mapped = mapCallError(err);
    if (mapped.outcome === 'failed') ctx.logger.error({ err, method: message.method }, 'call failed');
    finish(errorResponse(message.id, mapped.code, mapped.message), mapped.outcome);
  }
}
