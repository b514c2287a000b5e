/**
 * The HTTP side of one stateless (2026-07-28) request: a Waiter that answers the agent's POST. The answer
 * is plain JSON when the outcome comes first; it becomes an SSE stream when a related message worth sending
 * arrives first: progress on the request's own token (the router relays the token of the request that
 * started the call, which a retry replaces with its own), or a log message when the request asked for logs
 * (`_meta` logLevel) at or above its level. Nothing else is sent on the stream (the era has no
 * server-to-client requests; those became input requests). Outcomes are converted for the era
 * (modern-results.ts) and carry the agent's own id. Closing the connection before the outcome cancels the
 * call (spec: on Streamable HTTP, closing the response is the cancellation).
 */
import type { FastifyReply } from 'fastify';
import {
  ErrorCodes,
  errorResponse,
  type HoldOutcome,
  type JsonRpcId,
  type JsonRpcResponse,
  type ToAgent,
} from '@meshgate/contracts';
import { isLevelEnabled, type LoggingLevel } from '@meshgate/mcp';
import type { AuditedRequest } from './audited-request';
import type { IngressContext } from './context';
import type { CallOutcome } from './error-mapping';
import { agentLeft, sendRpcError, writeJson } from './http-replies';
import { ModernSse } from './modern-sse';
import { modernError, modernResult, type ServerFacts } from './modern-results';
import type { Waiter } from './mrtr-holds';

/** What one exchange needs to answer its request. */
export interface ExchangeOptions {
  /** The agent's id of this POST's request. */
  id: JsonRpcId;
  method: string;
  params: Record<string, unknown> | undefined;
  progressToken: string | number | undefined;
  logLevel: LoggingLevel | undefined;
  facts: ServerFacts;
  sessionId: string;
  audited: AuditedRequest;
  started: number;
  /**
   * Wraps the requestState of an upstream's own `input_required` in the gateway's (a relay state); an
   * upstream may send none, and the retry must still reach it with the answers.
   */
  relayState: (upstreamState: string | undefined) => string;
  /** The agent left before the outcome. */
  onGone: () => void;
}

/** The message for the agent, or null when this request must not see it. */
function forAgent(m: ToAgent['message'], o: ExchangeOptions): ToAgent['message'] | null {
  if (m.method === 'notifications/progress') {
    if (o.progressToken === undefined) return null;
    return { ...m, params: { ...m.params, progressToken: o.progressToken } };
  }
  if (m.method === 'notifications/message')
    return o.logLevel !== undefined && isLevelEnabled(m.params?.['level'], o.logLevel) ? m : null;
  return null;
}

/** The JSON-RPC response of an outcome, in the agent's era and under its id. */
function responseOf(outcome: HoldOutcome, o: ExchangeOptions): JsonRpcResponse {
  const serverInfo = o.facts.serverInfo;
  switch (outcome.kind) {
    case 'result': {
      let result = outcome.result;
      const upstreamState = result['requestState'];
      if (result['resultType'] === 'input_required')
        result = {
          ...result,
          requestState: o.relayState(typeof upstreamState === 'string' ? upstreamState : undefined),
        };
      return { jsonrpc: '2.0', id: o.id, result: modernResult(o.method, result, serverInfo) };
    }
    case 'error':
      return { jsonrpc: '2.0', id: o.id, error: modernError(o.method, o.params, outcome.error) };
    case 'input_required': {
      const asked = Object.keys(outcome.inputRequests).length > 0;
      const result = {
        resultType: 'input_required',
        ...(asked ? { inputRequests: outcome.inputRequests } : {}),
        requestState: outcome.requestState,
      };
      return { jsonrpc: '2.0', id: o.id, result: modernResult(o.method, result, serverInfo) };
    }
    case 'refused':
      return errorResponse(
        o.id,
        ErrorCodes.InvalidParams,
        `Invalid params: invalid requestState (${outcome.reason})`,
      );
  }
}

function labelOf(outcome: HoldOutcome): CallOutcome {
  return outcome.kind === 'error' ? 'error' : outcome.kind === 'refused' ? 'rejected' : 'ok';
}

/**
 * Takes over the agent's POST and returns the waiter that answers it; null when the agent already left or
 * the stream limits are reached (then answered with 429).
 */
export function openExchange(ctx: IngressContext, reply: FastifyReply, o: ExchangeOptions): Waiter | null {
  if (agentLeft(reply)) {
    ctx.metrics.observeCall(o.method, 'cancelled', o.started);
    o.audited.answered(null, 0, 'cancelled');
    return null;
  }
  let finished = false;
  let sse: ModernSse | null = null;
  const res = reply.raw;

  const finish = (response: JsonRpcResponse | null, outcome: CallOutcome): void => {
    if (finished) return;
    finished = true;
    lease?.release();
    ctx.metrics.observeCall(o.method, outcome, o.started);
    let bytes = 0;
    try {
      if (sse) {
        if (response) sse.send(response);
        sse.end();
        bytes = sse.bytesWritten;
      } else if (response) bytes = writeJson(res, 200, response);
    } catch (err) {
      // An answer that cannot be serialized must not leave the agent waiting on an open connection.
      ctx.logger.error({ err, method: o.method }, 'could not write the answer');
      res.destroy();
    }
    o.audited.answered(response, bytes, outcome);
  };

  const lease = ctx.streams.acquire(o.sessionId, 'call', (reason) =>
    finish(errorResponse(o.id, ErrorCodes.UpstreamUnavailable, `Call ended: ${reason}`), 'unavailable'),
  );
  if (!lease) {
    ctx.metrics.observeCall(o.method, 'rejected', o.started);
    void sendRpcError(reply, 429, errorResponse(o.id, ErrorCodes.Overloaded, 'Too many open streams'));
    return null;
  }
  reply.hijack();
  res.once('close', () => {
    if (finished) return;
    finish(null, 'cancelled');
    o.onGone();
  });

  return {
    notify(message) {
      if (finished) return;
      const out = forAgent(message, o);
      if (!out) return;
      if (!sse) {
        sse = new ModernSse(res, ctx.config.keepAliveMs, (d) => ctx.metrics.sseStreams.inc(d));
        sse.open();
      }
      sse.send(out);
    },
    settle(outcome) {
      finish(responseOf(outcome, o), labelOf(outcome));
    },
  };
}
