/**
 * The two error shapes of the HTTP edge: a JSON-RPC error body on the MCP endpoints (what an MCP client
 * understands), RFC 9457 problem details everywhere else. JSON-RPC answers are serialised here, once, and
 * reported with their size to the audit record of the request when it has one.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JsonRpcError, JsonRpcResponse } from '@meshgate/contracts';
import { takeAudit } from './audited-request';
import type { CallOutcome } from './error-mapping';

/** Answers with a JSON-RPC response body (result or error) and an HTTP status. */
export function sendRpcAnswer(
  reply: FastifyReply,
  status: number,
  body: JsonRpcResponse,
  headers: Record<string, string> = {},
  outcome: CallOutcome = 'error' in body ? 'error' : 'ok',
): FastifyReply {
  const text = JSON.stringify(body);
  const sent = reply.code(status).headers(headers).type('application/json').send(text);
  takeAudit(reply.request)?.answered(body, Buffer.byteLength(text), outcome);
  return sent;
}

/** Answers with a JSON-RPC error body and an HTTP status. */
export function sendRpcError(
  reply: FastifyReply,
  status: number,
  error: JsonRpcError,
  headers: Record<string, string> = {},
  outcome: CallOutcome = 'rejected',
): FastifyReply {
  return sendRpcAnswer(reply, status, error, headers, outcome);
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

/** Writes a complete JSON response on a hijacked reply; returns the bytes of the body (0: not written). */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): number {
  if (res.destroyed || res.headersSent) return 0;
  return writeJsonText(res, status, JSON.stringify(body), headers);
}

/** Writes a complete response of JSON text already serialized; returns the bytes of the body (0: not written). */
export function writeJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): number {
  if (res.destroyed || res.headersSent) return 0;
  const bytes = Buffer.byteLength(text);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': bytes,
    ...headers,
  });
  res.end(text);
  return bytes;
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
