/**
 * POST of a 2026-07-28 agent: no session, the protocol version and client capabilities in every request's
 * `_meta`. After the checks of modern-envelope.ts (each refusal with the spec's code and HTTP status), the
 * request enters the audit trail and is answered in the agent's virtual session (virtual-session.ts):
 * `server/discover` from the session's InitializeResult, `subscriptions/listen` as a long-lived stream
 * (subscriptions-listen.ts), every other method through the router (stateless-call.ts). Notifications are
 * accepted and dropped (202): on Streamable HTTP the era defines none, closing a response cancels it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, errorResponse, type Classified } from '@meshgate/contracts';
import type { IngressContext } from './context';
import { initializeStatus, mapCallError } from './error-mapping';
import { sendRpcAnswer, sendRpcError } from './http-replies';
import { header, targetOf } from './mcp-guard';
import {
  MetaKeys,
  checkModernParams,
  checkModernRequest,
  routeEra,
  type EraRoute,
  type ModernHeaders,
} from './modern-envelope';
import { discoverResult } from './modern-results';
import { ServedVersions, isModernVersion } from './protocol';
import { callerOf } from './request-principal';
import { statelessCall } from './stateless-call';
import { listen } from './subscriptions-listen';
import { VirtualSessionRefused, type VirtualSession } from './virtual-session';

type Message = Exclude<Classified, { kind: 'invalid' }>;

function modernHeaders(request: FastifyRequest): ModernHeaders {
  return {
    protocolVersion: header(request, 'mcp-protocol-version'),
    method: header(request, 'mcp-method'),
    name: header(request, 'mcp-name'),
  };
}

/** The era of a POSTed message (modern-envelope.ts `routeEra`). */
export function eraOf(request: FastifyRequest, m: Message): EraRoute {
  const method = m.kind === 'response' ? undefined : m.message.method;
  const params = m.kind === 'response' ? undefined : m.message.params;
  const id = m.kind === 'notification' ? null : m.message.id;
  return routeEra(modernHeaders(request), { kind: m.kind, id, method, params });
}

/** Handles a POST that `eraOf` did not route to the session eras. */
export async function handleStatelessPost(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
  m: Message,
  route: Exclude<EraRoute, { era: 'legacy' }>,
): Promise<unknown> {
  if (route.era === 'reject') return sendRpcError(reply, route.status, route.error);
  if (m.kind !== 'request' || route.envelope === undefined) return reply.code(202).send();
  const message = m.message;
  const check = checkModernRequest(
    modernHeaders(request),
    route.version,
    message.id,
    message.method,
    message.params,
  );
  if (!check.ok) return sendRpcError(reply, check.status, check.error);
  if (!ctx.audit.admission()) {
    ctx.metrics.observeCall(message.method, 'rejected', Date.now());
    return sendRpcError(
      reply,
      503,
      errorResponse(message.id, ErrorCodes.ServiceUnavailable, 'audit trail unavailable'),
    );
  }
  const audited = ctx.audit.received(request, message);
  const invalid = checkModernParams(message.id, check.method, message.params);
  if (invalid) return sendRpcError(reply, 200, invalid);
  const started = Date.now();
  const envelope = route.envelope;
  let session: VirtualSession;
  try {
    session = await ctx.modern.sessions.resolve(
      {
        principal: callerOf(request).principal,
        target: targetOf(request),
        version: route.version,
        capabilities: envelope[MetaKeys.clientCapabilities],
        clientInfo: envelope[MetaKeys.clientInfo],
      },
      { deadline: started + ctx.config.requestTimeoutMs, traceparent: audited.traceparent },
    );
  } catch (err) {
    if (err instanceof VirtualSessionRefused)
      return sendRpcAnswer(reply, 200, { jsonrpc: '2.0', id: message.id, error: err.error }, {}, 'error');
    const mapped = mapCallError(err);
    if (mapped.outcome === 'failed') ctx.logger.error({ err }, 'virtual session not opened');
    ctx.metrics.observeCall(message.method, mapped.outcome, started);
    return sendRpcError(
      reply,
      initializeStatus(err),
      errorResponse(message.id, mapped.code, mapped.message),
      {},
      mapped.outcome,
    );
  }
  audited.session = session.record.session.id;
  const s = { request, reply, message, envelope, session, audited, started };
  switch (check.method) {
    case 'server/discover':
      ctx.metrics.observeCall(message.method, 'ok', started);
      return sendRpcAnswer(reply, 200, {
        jsonrpc: '2.0',
        id: message.id,
        result: discoverResult(session.facts, ServedVersions),
      });
    case 'subscriptions/listen':
      return listen(ctx, s);
    default:
      return statelessCall(ctx, s);
  }
}

/**
 * GET or DELETE of a 2026-07-28 agent (a modern MCP-Protocol-Version header, no Mcp-Session-Id): the era
 * has no GET stream and no session to delete, so 405 with `Allow: POST`; null for every other request.
 */
export function refuseModernGetOrDelete(request: FastifyRequest, reply: FastifyReply): FastifyReply | null {
  const version = header(request, 'mcp-protocol-version')?.trim();
  if (version === undefined || !isModernVersion(version) || header(request, 'mcp-session-id') !== undefined)
    return null;
  return sendRpcError(
    reply,
    405,
    errorResponse(null, -32000, `Method not allowed: protocol revision ${version} serves POST only`),
    { allow: 'POST' },
  );
}
