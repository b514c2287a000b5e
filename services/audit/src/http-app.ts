/**
 * The archiver's small HTTP application: liveness, readiness (NATS connected, archive reachable, consumer
 * pulling) and Prometheus metrics. Built without listening, so tests drive it with `inject()`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HttpAppOptions {
  /** Resolves when the replica can archive; rejects with the reason. */
  ready: () => Promise<void>;
  metrics: Registry;
  logger: FastifyBaseLogger;
}

/** Builds the probe and metrics application; the caller listens or injects. */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await opts.ready();
      return { status: 'ready' };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return reply.code(503).send({ status: 'not ready', reason });
    }
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', opts.metrics.contentType);
    return opts.metrics.metrics();
  });
  return app;
}
