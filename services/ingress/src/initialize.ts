/**
 * `initialize`: a new session. Ingress picks a random id (a legacy HTTP+SSE session brings the id of its
 * stream), asks any router replica to open it (the router connects or reuses upstreams and negotiates the
 * version), stores the record pinned to the replica that answered, and hands the agent its Mcp-Session-Id.
 * A failed initialize stores nothing.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ErrorCodes,
  errorResponse,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type Principal,
  type SessionInfo,
  type Target,
} from '@meshgate/contracts';
import type { AuditedRequest } from './audited-request';
import type { IngressContext } from './context';
import { initializeStatus, mapCallError, type CallOutcome } from './error-mapping';
import { targetOf } from './mcp-guard';
import { InitializeParams } from './message-parse';
import { callerOf } from './request-principal';
import { newSessionId } from './session-store';
import { sendRpcAnswer } from './http-replies';

/** The answer to an `initialize`: HTTP status, JSON-RPC response, outcome, and the session it opened. */
export interface InitializeAnswer {
  status: number;
  response: JsonRpcResponse;
  outcome: CallOutcome;
  /** Set when the session was opened and stored. */
  sessionId?: string;
}

/** Who opens the session, where, under which id. */
export interface NewSession {
  id: string;
  target: Target;
  principal: Principal;
}

/** Opens a session through the router and stores its record; never throws. */
export async function negotiateSession(
  ctx: IngressContext,
  message: JsonRpcRequest,
  audited: AuditedRequest,
  opening: NewSession,
): Promise<InitializeAnswer> {
  const started = Date.now();
  const params = InitializeParams.safeParse(message.params ?? {});
  if (!params.success) {
    ctx.metrics.observeCall(message.method, 'rejected', started);
    const issue = params.error.issues[0];
    const where = issue ? `${issue.path.join('.') || 'params'}: ${issue.message}` : 'params';
    return {
      status: 400,
      response: errorResponse(message.id, ErrorCodes.InvalidParams, `Invalid params: ${where}`),
      outcome: 'rejected',
    };
  }
  const { protocolVersion, capabilities, clientInfo } = params.data;
  const session: SessionInfo = {
    ...opening,
    protocolVersion,
    clientCapabilities: capabilities,
    ...(clientInfo ? { clientInfo } : {}),
  };
  try {
    const answer = await ctx.router.initialize(
      { v: 1, session, message },
      {
        deadline: started + ctx.config.requestTimeoutMs,
        traceparent: audited.traceparent,
      },
    );
    if ('error' in answer.message) {
      ctx.metrics.observeCall(message.method, 'error', started);
      return { status: 200, response: answer.message, outcome: 'error' };
    }
    const negotiated = answer.message.result['protocolVersion'];
    const version = typeof negotiated === 'string' && negotiated.length <= 32 ? negotiated : protocolVersion;
    await ctx.sessions.put({
      v: 1,
      session: { ...session, protocolVersion: version },
      router: answer.router,
      createdAt: Date.now(),
    });
    ctx.metrics.observeCall(message.method, 'ok', started);
    audited.session = session.id;
    return { status: 200, response: answer.message, outcome: 'ok', sessionId: session.id };
  } catch (err) {
    const mapped = mapCallError(err);
    if (mapped.outcome === 'failed') ctx.logger.error({ err }, 'initialize failed');
    ctx.metrics.observeCall(message.method, mapped.outcome, started);
    return {
      status: initializeStatus(err),
      response: errorResponse(message.id, mapped.code, mapped.message),
      outcome: mapped.outcome,
    };
  }
}

/** Handles `initialize` on a POST to a Streamable HTTP endpoint; answers the agent in every case. */
export async function initializeSession(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
  message: JsonRpcRequest,
  audited: AuditedRequest,
): Promise<FastifyReply> {
  const answer = await negotiateSession(ctx, message, audited, {
    id: newSessionId(),
    target: targetOf(request),
    principal: callerOf(request).principal,
  });
  const headers: Record<string, string> =
    answer.sessionId !== undefined ? { 'mcp-session-id': answer.sessionId } : {};
  return sendRpcAnswer(reply, answer.status, answer.response, headers, answer.outcome);
}
