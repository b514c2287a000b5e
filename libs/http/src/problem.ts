/**
 * Problem details (RFC 9457) for every 4xx and 5xx of Meshgate's HTTP APIs (registry, audit, the keys admin
 * API), including Fastify's own errors (malformed URL encoding, unparsable JSON, oversize bodies) and unknown
 * routes. Details are bounded and never carry internals: a system fault is logged and answered with a
 * generic line; an unreachable NATS or JetStream is a 503 naming what cannot be reached.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors as natsErrors } from '@nats-io/nats-core';
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';

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

/** How one API names its own errors: `domain` maps those it knows, `unreachable` names its store. */
export interface ProblemMapping {
  domain?: (err: unknown) => HttpProblem | undefined;
  /** What cannot be reached when NATS fails, e.g. "the audit archive". */
  unreachable: string;
}

/** Turns any error into the problem the client sees. */
export function toProblem(err: unknown, mapping: ProblemMapping): HttpProblem {
  if (err instanceof HttpProblem) return err;
  const known = mapping.domain?.(err);
  if (known) return known;
  const status = (err as Partial<FastifyError> | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new HttpProblem(status, (err as Error).message || (STATUS_CODES[status] ?? 'Error'));
  if (NatsFaults.some((fault) => err instanceof fault))
    return new HttpProblem(
      503,
      `${mapping.unreachable} cannot be reached; retry later`,
      {},
      { 'retry-after': '5' },
    );
  return new HttpProblem(500, 'internal error');
}

/** Makes every error of `app` (and, unless `notFound` is false, every unknown route) answer with problem details. */
export function installProblemHandling(
  app: FastifyInstance,
  mapping: ProblemMapping,
  opts: { notFound?: boolean } = {},
): void {
  app.setErrorHandler((err, request, reply) => {
    const problem = toProblem(err, mapping);
    if (problem.status >= 500) request.log.error({ err }, 'request failed');
    return sendProblem(reply, request, problem);
  });
  if (opts.notFound !== false)
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, request, new HttpProblem(404, `no route ${request.method} ${request.url}`)),
    );
}

function bounded(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
