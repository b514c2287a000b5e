/**
 * The registry's admin HTTP application: JSON only (anything else is a 415), a body limit (413), problem
 * details for every error, liveness and readiness probes, and the `/v1/servers` resource. Built without
 * listening, so tests drive it with `inject()`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { HttpProblem, installProblemHandling, sendProblem, toProblem } from './problem';
import { registerServersApi, type ServersApiDeps } from './servers-api';

export interface HttpAppOptions extends ServersApiDeps {
  /** Resolves when the service can serve (NATS connected, catalogue reachable); rejects with the reason. */
  ready: () => Promise<void>;
  /** Largest accepted body in bytes. */
  bodyLimit: number;
  logger: FastifyBaseLogger;
}

/** Builds the admin application; the caller listens or injects. */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit,
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    // Errors raised before routing (malformed URL encoding, oversize path parameter) get problem details too.
    frameworkErrors: (err, request, reply) => {
      void sendProblem(reply, request, toProblem(err));
    },
  });
  app.removeContentTypeParser(['text/plain']);
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
  registerServersApi(app, opts);
  return app;
}
