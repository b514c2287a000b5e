/**
 * The Fastify application every Meshgate HTTP API starts from (registry, audit): no request logging, 503 while
 * closing, problem details for every error (including those raised before routing, such as malformed URL
 * encoding) and unknown routes, and the probes `/healthz`, `/readyz` (503 naming the reason) and, when a
 * registry is given, `/metrics`. Built without listening, so tests drive it with `inject()`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { HttpProblem, installProblemHandling, sendProblem, toProblem, type ProblemMapping } from './problem';

export interface ApiAppOptions {
  logger: FastifyBaseLogger;
  /** How the API's own errors become problems, and what to name when NATS cannot be reached. */
  problems: ProblemMapping;
  /** Resolves when the service can serve; rejects with the reason `/readyz` gives. */
  ready: () => Promise<void>;
  /** Prometheus registry served at `/metrics`; none: no such route. */
  metrics?: Registry;
  /** Largest accepted body in bytes (Fastify's default otherwise). */
  bodyLimit?: number;
  /** Longest path parameter (Fastify's default otherwise). */
  maxParamLength?: number;
}

/** The app with its probes; the caller registers its routes. */
export function createApiApp(opts: ApiAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}),
    ...(opts.maxParamLength !== undefined ? { routerOptions: { maxParamLength: opts.maxParamLength } } : {}),
    frameworkErrors: (err, request, reply) => {
      void sendProblem(reply, request, toProblem(err, opts.problems));
    },
  });
  installProblemHandling(app, opts.problems);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    try {
      await opts.ready();
      return { status: 'ready' };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return sendProblem(reply, request, new HttpProblem(503, `not ready: ${reason}`));
    }
  });
  const metrics = opts.metrics;
  if (metrics)
    app.get('/metrics', async (_request, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.metrics();
    });
  return app;
}
