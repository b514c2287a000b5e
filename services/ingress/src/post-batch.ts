/**
 * A JSON-RPC batch POSTed to a Streamable HTTP endpoint. Only sessions negotiated at 2025-03-26 may send
 * one (batching came with that version and left with 2025-06-18). The batch is checked whole before any
 * of it is relayed or sent (message-parse.ts `parseBatch`); then notifications and answers are relayed,
 * pings answered here, and every other request runs through the same exchange core as a request POSTed
 * alone (router call, policy, audit record, metrics), at most `MESHGATE_BATCH_CONCURRENCY` at once and
 * all due by one deadline. Only notifications and answers: 202.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ErrorCodes,
  errorResponse,
  type JsonRpcError,
  type JsonRpcRequest,
  type SessionRecord,
} from '@meshgate/contracts';
import type { AuditedRequest } from './audited-request';
import { forwardNotification, forwardResponse } from './agent-relay';
import { BatchAnswer } from './batch-answer';
import { runExchange } from './call-exchange';
import type { IngressContext } from './context';
import { resolveSession } from './mcp-guard';
import { parseBatch } from './message-parse';
import { supportsBatches } from './protocol';
import { callerOf } from './request-principal';
import { agentLeft, sendRpcError } from './http-replies';

/** Handles a POST whose body is a JSON array. */
export async function handleBatch(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
  entries: unknown[],
): Promise<unknown> {
  const parsed = parseBatch(entries, ctx.config.maxBatch);
  if (!parsed.ok) return refuse(reply, parsed.status, parsed.body);
  const record = await resolveSession(ctx, request, reply, null);
  if (!record) return reply;
  const version = record.session.protocolVersion;
  if (!supportsBatches(version))
    return sendRpcError(
      reply,
      400,
      errorResponse(
        null,
        ErrorCodes.InvalidRequest,
        `Invalid Request: batches are not supported in ${version}`,
      ),
    );
  const requests: JsonRpcRequest[] = [];
  for (const m of parsed.messages) if (m.kind === 'request') requests.push(m.message);
  if (requests.length > 0 && !ctx.audit.admission()) {
    for (const r of requests) ctx.metrics.observeCall(r.method, 'rejected', Date.now());
    return refuse(
      reply,
      503,
      requests.map((r) => errorResponse(r.id, ErrorCodes.ServiceUnavailable, 'audit trail unavailable')),
    );
  }
  const sid = record.session.id;
  for (const m of parsed.messages) {
    if (m.kind === 'notification') forwardNotification(ctx, sid, m.message);
    else if (m.kind === 'response') forwardResponse(ctx, sid, m.message);
  }
  if (requests.length === 0) return reply.code(202).send();
  await answerRequests(ctx, request, reply, record, requests);
  return reply;
}

/** Runs the requests of a batch into one answer; never throws. */
async function answerRequests(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
  record: SessionRecord,
  requests: JsonRpcRequest[],
): Promise<void> {
  const started = Date.now();
  const deadline = started + ctx.config.requestTimeoutMs;
  const calls: { message: JsonRpcRequest; audited: AuditedRequest }[] = [];
  const pings: JsonRpcRequest[] = [];
  for (const message of requests) {
    if (message.method === 'ping') pings.push(message);
    else calls.push({ message, audited: ctx.audit.received(request, message) });
  }
  const cancelled = (call: (typeof calls)[number]) => {
    ctx.metrics.observeCall(call.message.method, 'cancelled', started);
    call.audited.answered(null, 0, 'cancelled');
  };
  // Gone before anything was sent: nothing to answer and nothing to cancel upstream.
  if (agentLeft(reply)) {
    calls.forEach(cancelled);
    return;
  }
  reply.hijack();
  const answer = new BatchAnswer(ctx, reply.raw, record, requests.length);
  for (const ping of pings) {
    ctx.metrics.observeCall('ping', 'ok', started);
    answer.add({ jsonrpc: '2.0', id: ping.id, result: {} });
  }
  const caller = callerOf(request);
  const clientAddress = request.ip.slice(0, 64);
  const worker = async () => {
    for (let call = calls.shift(); call; call = calls.shift()) {
      if (answer.agentGone) {
        cancelled(call);
        answer.add(null);
        continue;
      }
      await runExchange(ctx, { record, ...call, caller, clientAddress, started, deadline }, answer.entry());
    }
  };
  const workers = Math.min(ctx.config.batchConcurrency, calls.length);
  await Promise.all(Array.from({ length: workers }, worker));
}

/** A refused batch: one JSON-RPC error, or one per invalid entry as a JSON array. */
function refuse(reply: FastifyReply, status: number, body: JsonRpcError | JsonRpcError[]): FastifyReply {
  if (!Array.isArray(body)) return sendRpcError(reply, status, body);
  return reply.code(status).type('application/json').send(JSON.stringify(body));
}
