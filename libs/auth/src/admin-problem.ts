/**
 * RFC 9457 problem details for the admin API's errors. The same shape as services/audit/src/problem.ts
 * (duplicated on purpose: a library cannot import a service, and the audit one also maps the archive's
 * own errors); details are bounded and never carry internals: a system fault is logged and answered with
 * a generic line.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errors as natsErrors } from '@nats-io/nats-core';
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import { ApiKeyConflict, InvalidApiKeyInput } from './api-key-store';

/** An error that the API answers with `status`, `detail`, optional extension members and headers. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

/** Sends a problem details document. */
export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  problem: HttpProblem,
): FastifyReply {
  const body = {
    ...problem.extensions,
    type: 'about:blank',
    title: STATUS_CODES[problem.status] ?? 'Error',
    status: problem.status,
    detail: bounded(problem.detail),
    instance: bounded(request.url),
  };
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(body));
}

const NatsFaults = [
  natsErrors.ClosedConnectionError,
  natsErrors.ConnectionError,
  natsErrors.DrainingConnectionError,
  natsErrors.RequestError,
  natsErrors.TimeoutError,
  natsErrors.NoRespondersError,
  JetStreamError,
  JetStreamApiError,
];

/** Turns any error into the problem the client sees. */
export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof ApiKeyConflict) return new HttpProblem(409, err.message);
  if (err instanceof InvalidApiKeyInput) return new HttpProblem(400, err.message);
  const status = (err as Partial<FastifyError> | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new HttpProblem(status, (err as Error).message || (STATUS_CODES[status] ?? 'Error'));
  if (NatsFaults.some((fault) => err instanceof fault))
    return new HttpProblem(503, 'the key store cannot be reached; retry later', {}, { 'retry-after': '5' });
  return new HttpProblem(500, 'internal error');
}

function bounded(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
