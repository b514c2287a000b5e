/**
 * Problem details (RFC 9457) for every 4xx and 5xx of the admin API, including Fastify's own errors
 * (unparsable JSON, oversize body, unsupported media type) and unknown routes. Details are bounded and
 * never carry internals: a system fault is logged and answered with a generic line.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors as natsErrors } from '@nats-io/nats-core';
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';

/** One field-level problem of a request, as RFC 9457 suggests: a JSON pointer into the body and a detail. */
export interface FieldProblem {
  pointer: string;
  detail: string;
}

/** An error that the API answers with `status` and `detail` (and `errors`, field by field). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldProblem[],
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
    type: 'about:blank',
    title: STATUS_CODES[problem.status] ?? 'Error',
    status: problem.status,
    detail: bounded(problem.detail),
    instance: bounded(request.url),
    ...(problem.errors ? { errors: problem.errors.slice(0, 50) } : {}),
  };
  return reply
    .code(problem.status)
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(body));
}

const NATS_FAULTS = [
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
  const status = (err as Partial<FastifyError> | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new HttpProblem(status, (err as Error).message || (STATUS_CODES[status] ?? 'Error'));
  if (NATS_FAULTS.some((fault) => err instanceof fault))
    return new HttpProblem(503, 'the catalogue cannot be reached; retry later');
  return new HttpProblem(500, 'internal error');
}

/** Makes every error and every unknown route of `app` answer with problem details. */
export function installProblemHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const problem = toProblem(err);
    if (problem.status >= 500) request.log.error({ err }, 'request failed');
    return sendProblem(reply, request, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new HttpProblem(404, `no route ${request.method} ${request.url}`)),
  );
}

function bounded(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
