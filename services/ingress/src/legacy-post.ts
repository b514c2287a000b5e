/**
 * POST `/messages?sessionId=<id>` and `/servers/:name/messages?sessionId=<id>`: one JSON-RPC message of a
 * legacy HTTP+SSE agent (spec 2024-11-05), on any replica. The replica holding the session's stream must
 * confirm it is open, for this principal and endpoint (legacy-stream.ts; otherwise 404 and -32001). The
 * POST is then answered 202 Accepted and everything for the agent, the response included, is published to
 * that replica on `mg.v1.session.<sid>.to-legacy-agent`. `initialize` opens the session under the stream's
 * id; other requests run through the exchange core (call-exchange.ts); notifications and answers to
 * server-to-client requests are relayed as on Streamable HTTP. A malformed body, a batch (not part of this
 * transport) or a refusal is answered on the POST itself.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BusError, encodeJson } from '@meshgate/bus';
import {
  ErrorCodes,
  LegacyAttachReply,
  SessionId,
  Subjects,
  errorResponse,
  type JsonRpcRequest,
  type LegacyAttach,
  type SessionRecord,
  type ToLegacyAgent,
} from '@meshgate/contracts';
import type { AuditedRequest } from './audited-request';
import { forwardNotification, forwardResponse } from './agent-relay';
import { runExchange, type ExchangeSink } from './call-exchange';
import type { IngressContext } from './context';
import { negotiateSession } from './initialize';
import { endLegacySession } from './legacy-stream';
import { SESSION_NOT_FOUND, header, targetOf } from './mcp-guard';
import { parsePost } from './message-parse';
import { checkVersionHeader, isJsonContentType } from './protocol';
import { callerOf } from './request-principal';
import { sendRpcError } from './http-replies';

/** How long the stream's replica may take to confirm the stream. */
const ATTACH_TIMEOUT_MS = 2000;

const LegacyQuery = z.looseObject({ sessionId: z.string().max(256) });

type StreamState = 'attached' | 'refused' | 'unavailable';

/** The sink of a legacy session: publishes every message to the replica holding the stream. */
interface LegacyOutlet extends ExchangeSink {
  /** Publishes one message; returns the bytes published (0: not published). */
  send(message: ToLegacyAgent['message']): number;
}

/** Handles a POST of a legacy HTTP+SSE agent. */
export async function handleLegacyPost(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  if (!isJsonContentType(header(request, 'content-type')))
    return refuse(reply, 415, null, 'Unsupported Media Type: Content-Type must be application/json');
  const query = LegacyQuery.safeParse(request.query);
  if (!query.success)
    return refuse(reply, 400, null, 'Bad Request: the sessionId query parameter is required');
  const parsed = parsePost(request.body as Buffer | undefined);
  if (!parsed.ok) return sendRpcError(reply, parsed.status, parsed.error);
  if ('batch' in parsed)
    return sendRpcError(
      reply,
      400,
      errorResponse(
        null,
        ErrorCodes.InvalidRequest,
        'Invalid Request: JSON-RPC batches are not part of the HTTP+SSE transport',
      ),
    );
  const m = parsed.message;
  const id = m.kind === 'request' ? m.message.id : null;
  const sid = query.data.sessionId;
  const initialize = m.kind === 'request' && m.message.method === 'initialize';
  const stream = SessionId.safeParse(sid).success ? await attach(ctx, request, sid, initialize) : 'refused';
  if (stream === 'refused')
    return sendRpcError(reply, 404, errorResponse(id, SESSION_NOT_FOUND, 'Session not found'));
  if (stream === 'unavailable')
    return refuse(
      reply,
      503,
      id,
      "Service Unavailable: the session's stream did not answer",
      ErrorCodes.ServiceUnavailable,
    );
  const outlet = legacyOutlet(ctx, sid);

  if (m.kind === 'request' && m.message.method === 'ping') {
    ctx.metrics.observeCall('ping', 'ok', Date.now());
    outlet.send({ jsonrpc: '2.0', id: m.message.id, result: {} });
    return accepted(reply);
  }
  const record = await ctx.sessions.get(sid);
  if (initialize) {
    if (record) return refuse(reply, 400, id, 'Bad Request: the session is already initialized');
    return acceptRequest(ctx, request, reply, sid, m.message, (audited) =>
      initializeLegacy(ctx, request, sid, m.message, audited, outlet),
    );
  }
  if (!record) return refuse(reply, 400, id, 'Bad Request: the session is not initialized');
  // The legacy transport has no version header; a client that sends one must send the session's.
  const versionHeader = header(request, 'mcp-protocol-version');
  const version =
    versionHeader === undefined
      ? { ok: true as const }
      : checkVersionHeader(versionHeader, record.session.protocolVersion);
  if (!version.ok) return refuse(reply, 400, id, `Bad Request: ${version.reason}`);
  switch (m.kind) {
    case 'notification':
      forwardNotification(ctx, sid, m.message);
      return accepted(reply);
    case 'response':
      if (!forwardResponse(ctx, sid, m.message))
        return refuse(reply, 400, null, 'Bad Request: response to a request this gateway did not send');
      return accepted(reply);
    case 'request':
      return acceptRequest(ctx, request, reply, sid, m.message, (audited) =>
        callLegacy(ctx, request, record, m.message, audited, outlet),
      );
  }
}

/**
 * Accepts a request that enters the audit trail (refused with -32005 while a fail-closed trail has no room):
 * 202 now, the answer later on the stream.
 */
function acceptRequest(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
  sid: string,
  message: JsonRpcRequest,
  run: (audited: AuditedRequest) => Promise<void>,
): FastifyReply {
  if (!ctx.audit.admission()) {
    ctx.metrics.observeCall(message.method, 'rejected', Date.now());
    return refuse(reply, 503, message.id, 'audit trail unavailable', ErrorCodes.ServiceUnavailable);
  }
  const audited = ctx.audit.received(request, message, sid);
  const sent = accepted(reply);
  void run(audited);
  return sent;
}

/** Opens the session under the stream's id and sends the answer on the stream. */
async function initializeLegacy(
  ctx: IngressContext,
  request: FastifyRequest,
  sid: string,
  message: JsonRpcRequest,
  audited: AuditedRequest,
  outlet: LegacyOutlet,
): Promise<void> {
  const answer = await negotiateSession(ctx, message, audited, {
    id: sid,
    target: targetOf(request),
    principal: callerOf(request).principal,
  });
  // The stream may have closed while the session was being opened: nobody could use it, so it ends now.
  if (answer.sessionId !== undefined && (await attach(ctx, request, sid, false)) !== 'attached') {
    await endLegacySession(ctx, sid);
    audited.answered(null, 0, 'cancelled');
    return;
  }
  audited.answered(answer.response, outlet.send(answer.response), answer.outcome);
}

/** Runs a request of an initialized session; its messages go to the stream. */
async function callLegacy(
  ctx: IngressContext,
  request: FastifyRequest,
  record: SessionRecord,
  message: JsonRpcRequest,
  audited: AuditedRequest,
  outlet: LegacyOutlet,
): Promise<void> {
  const started = Date.now();
  await runExchange(
    ctx,
    {
      record,
      message,
      audited,
      caller: callerOf(request),
      clientAddress: request.ip.slice(0, 64),
      started,
      deadline: started + ctx.config.requestTimeoutMs,
    },
    outlet,
  );
}

/** Asks the replica holding the stream whether this POST may use it. */
async function attach(
  ctx: IngressContext,
  request: FastifyRequest,
  sid: string,
  initialize: boolean,
): Promise<StreamState> {
  const { principal } = callerOf(request);
  const ask: LegacyAttach = {
    v: 1,
    principal: { tenant: principal.tenant, id: principal.id },
    target: targetOf(request),
    initialize,
  };
  try {
    const answer = await ctx.bus.request(Subjects.sessionLegacyAttach(sid), ask, LegacyAttachReply, {
      timeoutMs: ATTACH_TIMEOUT_MS,
    });
    return answer.attached ? 'attached' : 'refused';
  } catch (err) {
    // No responders: no replica holds such a stream (unknown, or it ended).
    if (err instanceof BusError && err.code === 503) return 'refused';
    ctx.logger.warn({ err }, 'the replica of a legacy stream did not answer');
    return 'unavailable';
  }
}

function legacyOutlet(ctx: IngressContext, sid: string): LegacyOutlet {
  const subject = Subjects.sessionToLegacyAgent(sid);
  const send = (message: ToLegacyAgent['message']): number => {
    try {
      const out: ToLegacyAgent = { v: 1, message };
      const data = encodeJson(out);
      ctx.bus.nc.publish(subject, data);
      return data.byteLength;
    } catch (err) {
      ctx.logger.warn({ err }, 'a message for a legacy agent was not published');
      return 0;
    }
  };
  return {
    send,
    related: (message) => void send(message),
    answer: (response) => (response ? send(response) : 0),
    // The agent leaves by closing its stream, which ends the session: its calls end with it.
    onAbandon: () => {},
  };
}

function accepted(reply: FastifyReply): FastifyReply {
  return reply.code(202).type('text/plain').send('Accepted');
}

function refuse(
  reply: FastifyReply,
  status: number,
  id: JsonRpcRequest['id'] | null,
  message: string,
  code: number = ErrorCodes.InvalidRequest,
): FastifyReply {
  return sendRpcError(reply, status, errorResponse(id, code, message));
}
