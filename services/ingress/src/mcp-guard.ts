/**
 * What every request to an MCP endpoint passes before its handler: Host and Origin checks (403), the
 * server name of `/servers/:name/mcp` (404), authentication (401/403/503, edge-auth.ts), and for requests
 * after `initialize` the session (header required, known in KV, opened on this same endpoint by this same
 * principal) and its MCP-Protocol-Version.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ErrorCodes,
  ServerName,
  SessionId,
  errorResponse,
  type JsonRpcId,
  type SessionRecord,
  type Target,
} from '@meshgate/contracts';
import type { IngressContext } from './context';
import { hostAllowed, originAllowed } from './origin-check';
import { attachCaller, callerOf, samePrincipal } from './request-principal';
import { checkVersionHeader, isModernVersion } from './protocol';
import { sendProblem, sendRpcError } from './http-replies';

/** JSON-RPC code of an unknown session (the code the MCP SDKs use). */
export const SESSION_NOT_FOUND = -32001;

/** A single header value (the first when repeated). */
export function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The target an MCP route serves: `/mcp` federated, `/servers/:name/mcp` one server. */
export function targetOf(request: FastifyRequest): Target {
  const name = (request.params as { name?: string }).name;
  return name === undefined ? { kind: 'federated' } : { kind: 'server', server: name };
}

/** True when `a` and `b` are the same endpoint (federated, or the same server). */
export function sameTarget(a: Target, b: Target): boolean {
  return a.kind === b.kind && (a.kind === 'federated' || (b.kind === 'server' && a.server === b.server));
}

/** onRequest hook of the MCP routes; answers and stops the request when a check fails. */
export function mcpGuard(ctx: IngressContext) {
  const { allowedHosts, anyHost, allowedOrigins } = ctx.config;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!hostAllowed(header(request, 'host'), allowedHosts, anyHost))
      return sendRpcError(
        reply,
        403,
        errorResponse(null, ErrorCodes.InvalidRequest, 'Forbidden: Host not allowed'),
      );
    if (!originAllowed(header(request, 'origin'), allowedOrigins))
      return sendRpcError(
        reply,
        403,
        errorResponse(null, ErrorCodes.InvalidRequest, 'Forbidden: Origin not allowed'),
      );
    const name = (request.params as { name?: string }).name;
    if (name !== undefined && !ServerName.safeParse(name).success)
      return sendProblem(
        reply,
        404,
        'Not Found',
        'no such server: names start with a letter and hold letters, digits and "-"',
      );
    const authenticating = ctx.auth.authenticate(request);
    const auth = authenticating instanceof Promise ? await authenticating : authenticating;
    if (!auth.ok) {
      const { status, detail, headers } = auth.refusal;
      ctx.audit.refused(request, auth.refusal);
      const title = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Service Unavailable';
      const code = status === 503 ? ErrorCodes.ServiceUnavailable : ErrorCodes.InvalidRequest;
      return sendRpcError(reply, status, errorResponse(null, code, `${title}: ${detail}`), headers);
    }
    attachCaller(request, auth.caller);
    return undefined;
  };
}

/**
 * The session of a request after `initialize`, or null after answering: 400 without the Mcp-Session-Id
 * header, 404 (-32001) when unknown, expired or opened on another endpoint, 400 on a version mismatch.
 */
export async function resolveSession(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
  id: JsonRpcId | null,
): Promise<SessionRecord | null> {
  const raw = header(request, 'mcp-session-id');
  if (raw === undefined) {
    await sendRpcError(
      reply,
      400,
      errorResponse(id, ErrorCodes.InvalidRequest, 'Bad Request: Mcp-Session-Id header is required'),
    );
    return null;
  }
  const record = SessionId.safeParse(raw).success ? await ctx.sessions.get(raw) : null;
  // Another principal's session answers exactly like an unknown one: its existence is not told. So does a
  // virtual session of a 2026-07-28 agent (stateless-post.ts): it is never a session an agent holds.
  if (
    !record ||
    isModernVersion(record.session.protocolVersion) ||
    !sameTarget(record.session.target, targetOf(request)) ||
    !samePrincipal(record.session.principal, callerOf(request).principal)
  ) {
    await sendRpcError(reply, 404, errorResponse(id, SESSION_NOT_FOUND, 'Session not found'));
    return null;
  }
  const version = checkVersionHeader(header(request, 'mcp-protocol-version'), record.session.protocolVersion);
  if (!version.ok) {
    await sendRpcError(
      reply,
      400,
      errorResponse(id, ErrorCodes.InvalidRequest, `Bad Request: ${version.reason}`),
    );
    return null;
  }
  return record;
}
