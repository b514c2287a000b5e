/**
 * The two error shapes of the HTTP edge: a JSON-RPC error body on the MCP endpoints (what an MCP client
 * understands), RFC 9457 problem details everywhere else.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JsonRpcError } from '@meshgate/contracts';

/** Answers with a JSON-RPC error body and an HTTP status. */
export function sendRpcError(
  reply: FastifyReply,
  status: number,
  error: JsonRpcError,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply.code(status).headers(headers).type('application/json').send(error);
}

/** Answers with `application/problem+json` (RFC 9457). */
export function sendProblem(
  reply: FastifyReply,
  status: number,
  title: string,
  detail?: string,
): FastifyReply {
  const body =
    detail === undefined
      ? { type: 'about:blank', title, status }
      : { type: 'about:blank', title, status, detail };
  return reply.code(status).type('application/problem+json').send(body);
}

/** Writes a complete JSON response on a hijacked reply. */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * True when the agent closed the connection while its request was being looked up; the reply is then
 * taken over with nothing to send. The connection's 'close' event has already fired and never fires again,
 * so whatever a handler would register on it (stream slot, subscription) must not be taken at all.
 */
export function agentLeft(reply: FastifyReply): boolean {
  if (!reply.raw.destroyed) return false;
  reply.hijack();
  return true;
}

/** Lifts the idle timeout of the connection while a call or stream is held open (deadlines bound it). */
export function holdOpen(request: FastifyRequest): void {
  const socket = request.raw.socket;
  if (typeof socket.setTimeout === 'function') socket.setTimeout(0);
}
