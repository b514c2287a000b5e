/**
 * GET and DELETE on an MCP endpoint. GET opens the session's standalone SSE stream (session-stream.ts),
 * or with Last-Event-ID resumes an earlier stream (resume.ts). DELETE ends the session: its record leaves
 * KV and `mg.v1.session.<sid>.ended` tells every router replica to release its upstream state and every
 * ingress replica to drop its cached copy and close the session's streams.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, Subjects, errorResponse, type SessionEnded } from '@meshgate/contracts';
import type { IngressContext } from './context';
import { newStreamId } from './event-id';
import { SESSION_NOT_FOUND, header, resolveSession } from './mcp-guard';
import { acceptsSse } from './protocol';
import { resume } from './resume';
import { openSessionStream } from './session-stream';
import { sendRpcError } from './http-replies';
import { refuseModernGetOrDelete } from './stateless-post';

/** Handles a GET: a new standalone stream, or a resumption with Last-Event-ID. */
export async function handleGet(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const modern = refuseModernGetOrDelete(request, reply);
  if (modern) return modern;
  if (!acceptsSse(header(request, 'accept')))
    return sendRpcError(
      reply,
      405,
      errorResponse(
        null,
        ErrorCodes.InvalidRequest,
        'Method Not Allowed: a GET stream needs Accept: text/event-stream',
      ),
      { allow: 'GET, POST, DELETE' },
    );
  const record = await resolveSession(ctx, request, reply, null);
  if (!record) return reply;
  const lastEventId = header(request, 'last-event-id');
  if (lastEventId !== undefined) return resume(ctx, reply, record, lastEventId);
  return openSessionStream(ctx, reply, record, { streamId: newStreamId(), firstSeq: 1, fresh: true });
}

/** Handles a DELETE: ends the session (200), or 404 when it is unknown. */
export async function handleDelete(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const modern = refuseModernGetOrDelete(request, reply);
  if (modern) return modern;
  const record = await resolveSession(ctx, request, reply, null);
  if (!record) return reply;
  const sid = record.session.id;
  // Another replica may have deleted it since it was read (cache): then it is already gone.
  if (!(await ctx.sessions.delete(sid)))
    return sendRpcError(reply, 404, errorResponse(null, SESSION_NOT_FOUND, 'Session not found'));
  const ended: SessionEnded = { v: 1, sessionId: sid, reason: 'deleted' };
  ctx.bus.publish(Subjects.sessionEnded(sid), ended);
  return reply.code(200).send();
}
