/**
 * `initialize`: a new session. Ingress picks a random id, asks any router replica to open it (the router
 * connects or reuses upstreams and negotiates the version), stores the record pinned to the replica that
 * answered, and hands the agent its Mcp-Session-Id. A failed initialize stores nothing.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, errorResponse, type JsonRpcRequest, type SessionInfo } from '@meshgate/contracts';
import type { AuditedRequest } from './audited-request';
import type { IngressContext } from './context';
import { initializeStatus, mapCallError } from './error-mapping';
import { targetOf } from './mcp-guard';
import { InitializeParams } from './message-parse';
import { callerOf } from './request-principal';
import { newSessionId } from './session-store';
import { sendRpcAnswer, sendRpcError } from './http-replies';

/** Handles `initialize` on a POST; answers the agent in every case. */
export async function initializeSession(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
  message: JsonRpcRequest,
  audited: AuditedRequest,
): Promise<FastifyReply> {
  const started = Date.now();
  const params = InitializeParams.safeParse(message.params ?? {});
  if (!params.success) {
    ctx.metrics.observeCall(message.method, 'rejected', started);
    const issue = params.error.issues[0];
    const where = issue ? `${issue.path.join('.') || 'params'}: ${issue.message}` : 'params';
    return sendRpcError(
      reply,
      400,
      errorResponse(message.id, ErrorCodes.InvalidParams, `Invalid params: ${where}`),
    );
  }
  const { protocolVersion, capabilities, clientInfo } = params.data;
  const session: SessionInfo = {
    id: newSessionId(),
    protocolVersion,
    clientCapabilities: capabilities,
    ...(clientInfo ? { clientInfo } : {}),
    target: targetOf(request),
    principal: callerOf(request).principal,
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
      return sendRpcAnswer(reply, 200, answer.message);
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
    return sendRpcAnswer(reply, 200, answer.message, { 'mcp-session-id': session.id });
  } catch (err) {
    const mapped = mapCallError(err);
    if (mapped.outcome === 'failed') ctx.logger.error({ err }, 'initialize failed');
    ctx.metrics.observeCall(message.method, mapped.outcome, started);
    return sendRpcError(
      reply,
      initializeStatus(err),
      errorResponse(message.id, mapped.code, mapped.message),
      {},
      mapped.outcome,
    );
  }
}
