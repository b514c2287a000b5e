/**
 * The audit service's HTTP application: the shared API app of libs/http (probes: readiness means NATS
 * connected, archive reachable, consumer pulling and archive writes succeeding; Prometheus metrics; problem
 * details for every error) with the audit API (`/v1/audit/*`, `/openapi.json`). Built without listening,
 * so tests drive it with `inject()`.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { createApiApp } from '@meshgate/http';
import { registerAuditApi, type AuditApiDeps } from './api-routes';
import { problemMapping } from './problem';

export interface HttpAppOptions {
  /** Resolves when the replica can archive; rejects with the reason. */
  ready: () => Promise<void>;
  metrics: Registry;
  logger: FastifyBaseLogger;
  api: AuditApiDeps;
}

/** Builds the probe, metrics and API application; the caller listens or injects. */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = createApiApp({
    logger: opts.logger,
    problems: problemMapping,
    ready: opts.ready,
    metrics: opts.metrics,
  });
  registerAuditApi(app, opts.api);
  return app;
}
