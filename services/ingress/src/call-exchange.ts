/**
 * The core of one agent request answered through the router in one NATS hop, whatever writes its answers:
 * a stream slot, the related-message channel (progress, logs, sampling/elicitation/roots requests),
 * cancellation by the agent, metrics and the audit record. Where the messages go is the caller's
 * `ExchangeSink`: the Streamable HTTP POST response (post-response-sink.ts), a legacy HTTP+SSE stream on
 * any replica (legacy-post.ts) or one entry of a JSON-RPC batch (batch-answer.ts).
 */
import type { FastifyReply } from 'fastify';
import {
  ErrorCodes,
  Subjects,
  errorResponse,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type SessionRecord,
  type ToAgent,
  type ToUpstream,
} from '@meshgate/contracts';
import type { AuditedRequest } from './audited-request';
import { pendingKey, type IngressContext } from './context';
import { callerOf, type Caller } from './request-principal';
import { mapCallError, type CallOutcome } from './error-mapping';
import { postResponseSink } from './post-response-sink';
import { agentLeft } from './http-replies';

/** Code of a call ended because the agent cancelled it (as in LSP; MCP leaves it to the implementation). */
const REQUEST_CANCELLED = -32800;

/** Where the messages of one call go. A sink never throws. */
export interface ExchangeSink {
  /** A message related to the call (progress, log, server-to-client request), before its answer. */
  related(message: ToAgent['message']): void;
  /**
   * Writes the call's answer and returns the bytes written (0: none). `response` is null when there is
   * nothing to write (the agent left); `refused` marks the answer of a call that found no stream slot.
   */
  answer(response: JsonRpcResponse | null, refused: boolean): number;
  /**
   * Registers what to do when the agent goes away before anything of the call reached it: the call ends
   * and is cancelled upstream. A sink whose agent cannot leave that way never calls it.
   */
  onAbandon(abandon: () => void): void;
}

/** One request of an open session, with who sent it and when its answer is due. */
export interface ExchangeCall {
  record: SessionRecord;
  message: JsonRpcRequest;
  audited: AuditedRequest;
  caller: Caller;
  clientAddress: string;
  /** Epoch ms the request arrived (metrics). */
  started: number;
  /** Epoch ms the answer is due. */
  deadline: number;
}

/** Answers one request through the router into `sink`; never throws and always answers or records why not. */
export async function runExchange(
  ctx: IngressContext,
  call: ExchangeCall,
  sink: ExchangeSink,
): Promise<void> {
  const { record, message, audited, started } = call;
  const sid = record.session.id;
  let finished = false;

  const lease = ctx.streams.acquire(sid, 'call', (reason) =>
    finish(errorResponse(message.id, ErrorCodes.UpstreamUnavailable, `Call ended: ${reason}`), 'unavailable'),
  );
  if (!lease) {
    ctx.metrics.observeCall(message.method, 'rejected', started);
    const refusal = errorResponse(message.id, ErrorCodes.Overloaded, 'Too many open streams');
    audited.answered(refusal, sink.answer(refusal, true), 'rejected');
    return;
  }
  const channel = ctx.dispatcher.open((related) => {
    if (!finished) sink.related(related);
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
    audited.answered(response, sink.answer(response, false), outcome);
  }

  sink.onAbandon(() => {
    if (finished) return;
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
        clientAddress: call.clientAddress,
        ...(call.caller.token !== undefined ? { subjectToken: call.caller.token } : {}),
      },
      { deadline: call.deadline, traceparent: audited.traceparent },
    );
    finish(answer.message, 'error' in answer.message ? 'error' : 'ok');
  } catch (err) {
    const mapped = mapCallError(err);
    if (mapped.outcome === 'failed') ctx.logger.error({ err, method: message.method }, 'call failed');
    finish(errorResponse(message.id, mapped.code, mapped.message), mapped.outcome);
  }
}

/**
 * A request POSTed alone on a Streamable HTTP session: answered as plain JSON when the router's reply comes
 * first (the common case), as an SSE stream once a related message comes first. An agent that disconnects
 * before any SSE event has nothing to resume, so its call is cancelled upstream; once events were sent,
 * the call runs on and its events stay replayable (spec: disconnection is not cancellation).
 */
export async function exchangeCall(
  ctx: IngressContext,
  reply: FastifyReply,
  record: SessionRecord,
  message: JsonRpcRequest,
  audited: AuditedRequest,
): Promise<void> {
  const started = Date.now();
  // Gone before the call was sent: nothing to answer and nothing to cancel upstream.
  if (agentLeft(reply)) {
    ctx.metrics.observeCall(message.method, 'cancelled', started);
    audited.answered(null, 0, 'cancelled');
    return;
  }
  reply.hijack();
  const deadline = started + ctx.config.requestTimeoutMs;
  const sink = postResponseSink(ctx, reply.raw, record, { id: message.id, deadline });
  await runExchange(
    ctx,
    {
      record,
      message,
      audited,
      caller: callerOf(reply.request),
      clientAddress: reply.request.ip.slice(0, 64),
      started,
      deadline,
    },
    sink,
  );
}
