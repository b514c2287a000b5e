/**
 * The registry's admin HTTP application: the shared API app of libs/http (liveness and readiness probes,
 * problem details for every error) with JSON only (anything else is a 415), a body limit (413), and the
 * `/v1/servers` resource. Built without listening, so tests drive it with `inject()`.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { createApiApp } from '@meshgate/http';
import { problemMapping } from './problem';
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
  const app = createApiApp({
    logger: opts.logger,
    problems: problemMapping,
    ready: opts.ready,
    bodyLimit: opts.bodyLimit,
    // An oversize path parameter is answered with problem details too.
    maxParamLength: 256,
  });
  app.removeContentTypeParser(['text/plain']);
  registerServersApi(app, opts);
  return app;
}
