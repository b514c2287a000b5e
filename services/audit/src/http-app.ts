/**
 * The audit service's HTTP application: liveness, readiness (NATS connected, archive reachable, consumer
 * pulling), Prometheus metrics, and the audit API (`/v1/audit/*`, `/openapi.json`). Every 4xx and 5xx is a
 * problem details document. Built without listening, so tests drive it with `inject()`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { registerAuditApi, type AuditApiDeps } from './api-routes';
import { HttpProblem, installProblemHandling, sendProblem, toProblem } from './problem';

export interface HttpAppOptions {
  /** Resolves when the replica can archive; rejects with the reason. */
  ready: () => Promise<void>;
  metrics: Registry;
  logger: FastifyBaseLogger;
  api: AuditApiDeps;
}

/** Builds the probe, metrics and API application; the caller listens or injects. */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Errors raised before routing (malformed URL encoding and the like) get problem details too.
    frameworkErrors: (err, request, reply) => {
      void sendProblem(reply, request, toProblem(err));
    },
  });
  installProblemHandling(app);
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
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', opts.metrics.contentType);
    return opts.metrics.metrics();
  });
  registerAuditApi(app, opts.api);
  return app;
}
