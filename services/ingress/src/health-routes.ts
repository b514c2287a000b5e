/**
 * Operational endpoints: `/healthz` (the process is up), `/readyz` (NATS is connected, a router replica
 * answers `$SRV.PING`, probed at most once a second, and the audit trail admits calls; the body names the
 * trail's state) and `/metrics` (Prometheus). Errors are RFC 9457 problem details.
 */
import type { FastifyInstance } from 'fastify';
import { Empty } from '@nats-io/nats-core';
import type { Bus } from '@meshgate/bus';
import type { IngressContext } from './context';
import { sendProblem } from './http-replies';

/** Name under which router replicas register with the NATS services framework. */
export const RouterServiceName = 'meshgate-router';

type Readiness = { ready: true } | { ready: false; reason: string };

/** A readiness probe whose result is reused for `ttlMs`; concurrent callers share one probe. */
export function readinessProbe(bus: Bus, ttlMs = 1000, timeoutMs = 500): () => Promise<Readiness> {
  let cached: { at: number; result: Readiness } | undefined;
  let running: Promise<Readiness> | undefined;
  const probe = async (): Promise<Readiness> => {
    if (bus.nc.isClosed() || bus.nc.isDraining())
      return { ready: false, reason: 'the NATS connection is closed' };
    try {
      await bus.nc.request(`$SRV.PING.${RouterServiceName}`, Empty, { timeout: timeoutMs });
      return { ready: true };
    } catch {
      return { ready: false, reason: `no ${RouterServiceName} replica answered within ${timeoutMs} ms` };
    }
  };
  return () => {
    if (cached && Date.now() - cached.at < ttlMs) return Promise.resolve(cached.result);
    running ??= probe().then((result) => {
      cached = { at: Date.now(), result };
      running = undefined;
      return result;
    });
    return running;
  };
}

/** Adds `/healthz`, `/readyz` and `/metrics` to the app. */
export function registerHealthRoutes(app: FastifyInstance, ctx: IngressContext): void {
  const readiness = readinessProbe(ctx.bus);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const r = await readiness();
    if (!r.ready) return sendProblem(reply, 503, 'Service Unavailable', r.reason);
    // Spooling is still ready (nothing is lost); a fail-closed trail without room refuses every call.
    const audit = ctx.audit.status().state;
    if (audit === 'refusing')
      return sendProblem(
        reply,
        503,
        'Service Unavailable',
        'audit trail unavailable: the spool is full (fail-closed)',
      );
    return { status: 'ready', audit };
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
}
