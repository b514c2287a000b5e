/**
 * POST to an MCP endpoint: one JSON-RPC message from the agent. Checks the media types, parses, then
 * routes by kind: `initialize` opens a session; `ping` is answered here; other requests go to the router;
 * notifications and answers to server-to-client requests are relayed upstream and acknowledged with 202;
 * a JSON array is a batch (post-batch.ts).
 * Every request but ping enters the audit trail (audit-trail.ts) before anything else, or is refused with
 * -32005 while a fail-closed trail has no room.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ErrorCodes,
  errorResponse,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type SessionRecord,
} from '@meshgate/contracts';
import type { IngressContext } from './context';
import { forwardNotification, forwardResponse } from './agent-relay';
import { exchangeCall } from './call-exchange';
import { handleBatch } from './post-batch';
import { initializeSession } from './initialize';
import { header, resolveSession } from './mcp-guard';
import { parsePost } from './message-parse';
import { acceptsJsonAndSse, checkVersionHeader, isJsonContentType } from './protocol';
import { sendRpcError } from './http-replies';
import { eraOf, handleStatelessPost } from './stateless-post';

/** Handles a POST to `/mcp` or `/servers/:name/mcp`. */
export async function handlePost(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  if (!isJsonContentType(header(request, 'content-type')))
    return sendRpcError(
      reply,
      415,
      errorResponse(
        null,
        ErrorCodes.InvalidRequest,
        'Unsupported Media Type: Content-Type must be application/json',
      ),
    );
  if (!acceptsJsonAndSse(header(request, 'accept')))
    return sendRpcError(
      reply,
      406,
      errorResponse(
        null,
        ErrorCodes.InvalidRequest,
        'Not Acceptable: Accept must allow application/json and text/event-stream',
      ),
    );
  const parsed = parsePost(request.body as Buffer | undefined);
  if (!parsed.ok) return sendRpcError(reply, parsed.status, parsed.error);
  if ('batch' in parsed) return handleBatch(ctx, request, reply, parsed.batch);
  const era = eraOf(request, parsed.message);
  if (era.era !== 'legacy') return handleStatelessPost(ctx, request, reply, parsed.message, era);
  const m = parsed.message;
  if (m.kind === 'request' && m.message.method !== 'ping')
    return handleRequest(ctx, request, reply, m.message);

  const record = await resolveSession(ctx, request, reply, m.kind === 'request' ? m.message.id : null);
  if (!record) return reply;
  switch (m.kind) {
    case 'notification':
      return relayNotification(ctx, reply, record, m.message);
    case 'response':
      return relayResponse(ctx, reply, record, m.message);
    case 'request': // only ping comes this way: answered here, and not audited
      ctx.metrics.observeCall('ping', 'ok', Date.now());
      return reply.type('application/json').send({ jsonrpc: '2.0', id: m.message.id, result: {} });
  }
}

/**
 * A request the gateway answers through the router, recorded in the audit trail from here on; refused
 * at once while a fail-closed trail has no room for its events.
 */
async function handleRequest(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
  message: JsonRpcRequest,
): Promise<unknown> {
  if (!ctx.audit.admission()) {
    ctx.metrics.observeCall(message.method, 'rejected', Date.now());
    return sendRpcError(
      reply,
      503,
      errorResponse(message.id, ErrorCodes.ServiceUnavailable, 'audit trail unavailable'),
    );
  }
  const audited = ctx.audit.received(request, message);
  if (message.method === 'initialize') {
    const version = checkVersionHeader(header(request, 'mcp-protocol-version'), undefined);
    if (!version.ok)
      return sendRpcError(
        reply,
        400,
        errorResponse(message.id, ErrorCodes.InvalidRequest, `Bad Request: ${version.reason}`),
      );
    return initializeSession(ctx, request, reply, message, audited);
  }
  const record = await resolveSession(ctx, request, reply, message.id);
  if (!record) return reply;
  return exchangeCall(ctx, reply, record, message, audited);
}

/** Agent notifications: `initialized` ends here; the rest reach every router replica of the session. */
function relayNotification(
  ctx: IngressContext,
  reply: FastifyReply,
  record: SessionRecord,
  message: JsonRpcNotification,
): FastifyReply {
  forwardNotification(ctx, record.session.id, message);
  return reply.code(202).send();
}

/** Answers to server-to-client requests go back to the router replica that issued them. */
function relayResponse(
  ctx: IngressContext,
  reply: FastifyReply,
  record: SessionRecord,
  message: JsonRpcResponse,
): FastifyReply {
  if (!forwardResponse(ctx, record.session.id, message))
    return sendRpcError(
      reply,
      400,
      errorResponse(
        null,
        ErrorCodes.InvalidRequest,
        'Bad Request: response to a request this gateway did not send',
      ),
    );
  return reply.code(202).send();
}
