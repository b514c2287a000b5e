/**
 * The link between an HTTP request and the audit trail's record of it: the trail attaches an
 * `AuditedRequest` when a JSON-RPC request is parsed, and whatever writes the answer (http-replies.ts,
 * call-exchange.ts) reports it there, so every path that answers an agent is recorded without each one
 * passing the record along.
 */
import type { FastifyRequest } from 'fastify';
import type { JsonRpcResponse } from '@meshgate/contracts';
import type { CallOutcome } from './error-mapping';

/** One agent request as the trail follows it. */
export interface AuditedRequest {
  /** The trace context of this request, sent to the router with the call. */
  readonly traceparent: string;
  /** The session; `initialize` sets the one it opened before answering. */
  session: string | undefined;
  /** Records the answer written to the agent (null: none, the agent left); only the first call counts. */
  answered(response: JsonRpcResponse | null, sizeBytes: number, outcome: CallOutcome): void;
}

const records = new WeakMap<FastifyRequest, AuditedRequest>();

/** Attaches the record of `request` (done by the trail). */
export function attachAudit(request: FastifyRequest, record: AuditedRequest): void {
  records.set(request, record);
}

/** Detaches and returns the record of `request`, when it has one: the answer is reported once. */
export function takeAudit(request: FastifyRequest): AuditedRequest | undefined {
  const record = records.get(request);
  records.delete(request);
  return record;
}
