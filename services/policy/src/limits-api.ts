/**
 * The admin API of the limits, `/admin/v1/limits`: read the LimitsConfig in force (`{v: 1, rules: []}`
 * when none is stored; `ETag` its SHA-256), replace it (PUT, an `application/json` LimitsConfig, validated
 * first: invalid limits are a 422 listing each issue with its path, and the stored limits stay in force),
 * and delete it (nothing limited). `If-Match` makes a change conditional (412 when the limits changed
 * meanwhile). Limits span tenants, so every route is for platform-admins only; the caller is
 * authenticated and authorized before the body is read.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { LimitsConfig } from '@meshgate/contracts';
import { HttpProblem, installJsonBody } from '@meshgate/http';
import { authenticate, requireManageLimits, sourceOf, type Caller, type PolicyApiAuth } from './admin-access';
import { ifMatchOf } from './admin-api';
import type { LimitsDeleted, LimitsSaved } from './api-answers';
import { MaxLimitsBytes, type LimitsStore } from './limits-store';

/** The path of the limits. */
export const AdminLimitsPath = '/admin/v1/limits';

export interface AdminLimitsApiOptions {
  store: LimitsStore;
  auth: PolicyApiAuth;
}

/** The admin API of the limits; register it on the service's API app. */
export const adminLimitsApi: FastifyPluginAsync<AdminLimitsApiOptions> = async (app, opts) => {
  const callers = new WeakMap<FastifyRequest, Caller>();
  installJsonBody(app, MaxLimitsBytes);
  app.addHook('onRequest', async (request) => {
    const caller = authenticate(opts.auth, request.headers.authorization);
    requireManageLimits(caller);
    callers.set(request, caller);
  });
  const byOf = (request: FastifyRequest) => {
    const caller = callers.get(request);
    if (!caller) throw new HttpProblem(401, 'not authenticated');
    return sourceOf(caller);
  };

  app.get(AdminLimitsPath, async (_request, reply): Promise<LimitsConfig> => {
    const stored = await opts.store.get();
    reply.header('etag', `"${stored.sha256}"`);
    return stored.config;
  });

  app.put(AdminLimitsPath, async (request, reply): Promise<LimitsSaved> => {
    const by = byOf(request);
    if (request.body === undefined)
      throw new HttpProblem(400, 'a JSON body with the limits ({"v": 1, "rules": [...]}) is required');
    const ifMatch = ifMatchOf(request);
    const saved = await opts.store.save(request.body, ifMatch ? { ifMatch } : {});
    if (saved.status !== 'unchanged')
      request.log.info(
        { status: saved.status, by, sha256: saved.sha256, rules: saved.config.rules.map((r) => r.id) },
        'limits stored',
      );
    reply.header('etag', `"${saved.sha256}"`);
    const { status, sha256, revision } = saved;
    return { status, sha256, revision, rules: saved.config.rules.length };
  });

  app.delete(AdminLimitsPath, async (request): Promise<LimitsDeleted> => {
    const by = byOf(request);
    const ifMatch = ifMatchOf(request);
    const deleted = await opts.store.remove(ifMatch ? { ifMatch } : {});
    if (deleted) request.log.info({ by }, 'limits deleted; nothing is limited');
    return { deleted };
  });
};
