/**
 * The policy service's HTTP application: the shared API app of libs/http (probes: ready means NATS
 * connected and the policy sync healthy; Prometheus metrics; problem details for every error) with the
 * admin APIs of policy sets and of the limits. Built without listening, so tests drive it with `inject()`.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { createApiApp } from '@meshgate/http';
import { adminPoliciesApi, type AdminPoliciesApiOptions } from './admin-api';
import { adminLimitsApi } from './limits-api';
import type { LimitsStore } from './limits-store';
import { problemMapping } from './problem';

export interface HttpAppOptions {
  /** Resolves when the replica can serve; rejects with the reason. */
  ready: () => Promise<void>;
  metrics: Registry;
  logger: FastifyBaseLogger;
  /** The policy sets' API; its `auth` also guards the limits. */
  api: AdminPoliciesApiOptions;
  limits: LimitsStore;
}

/** Builds the probe, metrics and admin application; the caller listens or injects. */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = createApiApp({
    logger: opts.logger,
    problems: problemMapping,
    ready: opts.ready,
    metrics: opts.metrics,
    maxParamLength: 256,
  });
  void app.register(adminPoliciesApi, opts.api);
  void app.register(adminLimitsApi, { store: opts.limits, auth: opts.api.auth });
  return app;
}
