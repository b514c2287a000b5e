/**
 * The admin API of policy sets, `/admin/v1/policies`: list the sets the caller manages, read one (with an
 * ETag of its SHA-256), replace one (PUT, body `text/plain` Cedar or JSON `{"text": ...}`; validated first:
 * a bad set is a 422 listing each error with its line, and the stored set stays in force), validate one
 * without storing it (POST .../validate), and delete a tenant's set. The platform set cannot be deleted:
 * without it a restart would store the permissive default again; replace it instead. `If-Match` makes a
 * change conditional (412 when the set changed meanwhile). Every request is authenticated before its body
 * is read; see admin-access.ts for who manages which set.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PolicySetName } from '@meshgate/contracts';
import { HttpProblem } from '@meshgate/http';
import { compilePolicySet, MaxPolicySetBytes, type PolicyEngine } from '@meshgate/policy';
import {
  authenticate,
  requireAnyManage,
  requireManage,
  mayManage,
  sourceOf,
  type Caller,
  type PolicyApiAuth,
} from './admin-access';
import type {
  PolicySetDeleted,
  PolicySetDocument,
  PolicySetList,
  PolicySetSaved,
  PolicySetValidation,
  PolicySetView,
} from './api-answers';
import type { PolicyStore, StoredPolicySet } from './policy-store';

/** Base path of the routes. */
export const AdminPoliciesPath = '/admin/v1/policies';

export interface AdminPoliciesApiOptions {
  store: PolicyStore;
  /** This replica's engine: the policy counts of installed sets come from it. */
  engine: Pick<PolicyEngine, 'sets'>;
  auth: PolicyApiAuth;
}

const NamePath = z.strictObject({ name: z.string() });
const JsonBody = z.strictObject({ text: z.string() });
const IfMatch = /^(?:W\/)?"?([0-9a-f]{64})"?$/;

/** The admin API of policy sets; register it on the service's API app. */
export const adminPoliciesApi: FastifyPluginAsync<AdminPoliciesApiOptions> = async (app, opts) => {
  const callers = new WeakMap<FastifyRequest, Caller>();
  installBodyParsers(app);
  app.addHook('onRequest', async (request) => {
    callers.set(request, authenticate(opts.auth, request.headers.authorization));
  });
  const callerOf = (request: FastifyRequest): Caller => {
    const caller = callers.get(request);
    if (!caller) throw new HttpProblem(401, 'not authenticated');
    return caller;
  };
  const viewOf = (stored: StoredPolicySet): PolicySetView => {
    const { name, sha256, source, updatedAt, text } = stored.record;
    const installed = opts.engine.sets().find((s) => s.name === name && s.revision === stored.revision);
    const compiled = installed ? undefined : compilePolicySet(name, text);
    const policies = installed?.policies ?? (compiled?.ok ? compiled.set.policies.size : null);
    return { name, sha256, source, updatedAt, policies, revision: stored.revision };
  };

  app.get(AdminPoliciesPath, async (request): Promise<PolicySetList> => {
    const caller = callerOf(request);
    requireAnyManage(caller);
    const stored = await opts.store.list();
    return { sets: stored.filter((s) => mayManage(caller, s.record.name)).map(viewOf) };
  });

  app.get(`${AdminPoliciesPath}/:name`, async (request, reply): Promise<PolicySetDocument> => {
    const caller = callerOf(request);
    const name = nameOf(request);
    requireManage(caller, name);
    const stored = await opts.store.get(name);
    if (stored === null) throw new HttpProblem(404, `no policy set "${name}"`);
    reply.header('etag', `"${stored.record.sha256}"`);
    return { ...viewOf(stored), text: stored.record.text };
  });

  app.put(`${AdminPoliciesPath}/:name`, async (request, reply): Promise<PolicySetSaved> => {
    const caller = callerOf(request);
    const name = nameOf(request);
    requireManage(caller, name);
    const text = textOf(request.body);
    const ifMatch = ifMatchOf(request);
    const saved = await opts.store.save(name, text, sourceOf(caller), ifMatch ? { ifMatch } : {});
    if (saved.status !== 'unchanged')
      request.log.info(
        { set: name, status: saved.status, by: sourceOf(caller), sha256: saved.record.sha256 },
        'policy set stored',
      );
    reply.header('etag', `"${saved.record.sha256}"`);
    return { ...viewOf(saved), policies: saved.compiled.policies.size, status: saved.status };
  });

  app.post(`${AdminPoliciesPath}/:name/validate`, async (request): Promise<PolicySetValidation> => {
    const caller = callerOf(request);
    const name = nameOf(request);
    requireManage(caller, name);
    const compiled = compilePolicySet(name, textOf(request.body));
    return compiled.ok
      ? {
          name,
          valid: true,
          policies: [...compiled.set.policies.keys()],
          errors: [],
          warnings: [...compiled.set.warnings],
        }
      : { name, valid: false, policies: [], errors: compiled.errors, warnings: [] };
  });

  app.delete(`${AdminPoliciesPath}/:name`, async (request): Promise<PolicySetDeleted> => {
    const caller = callerOf(request);
    const name = nameOf(request);
    requireManage(caller, name);
    if (name === 'platform')
      throw new HttpProblem(
        409,
        'the platform policy set cannot be deleted; replace it with the policies you want',
      );
    const ifMatch = ifMatchOf(request);
    if (!(await opts.store.remove(name, ifMatch ? { ifMatch } : {})))
      throw new HttpProblem(404, `no policy set "${name}"`);
    request.log.info({ set: name, by: sourceOf(caller) }, 'policy set deleted');
    return { name, deleted: true };
  });
};

/** Bodies: Cedar text (`text/plain`, UTF-8, at most 1 MB) or JSON `{"text": ...}`; anything else is a 415. */
function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'text/plain',
    { parseAs: 'buffer', bodyLimit: MaxPolicySetBytes },
    (_rq, body, done) => {
      try {
        done(null, { text: new TextDecoder('utf-8', { fatal: true }).decode(body as Buffer) });
      } catch {
        done(new HttpProblem(400, 'the body is not valid UTF-8'), undefined);
      }
    },
  );
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: 6 * MaxPolicySetBytes + 1024 },
    (_rq, body, done) => {
      try {
        const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body as Buffer));
        const parsed = JsonBody.safeParse(json);
        if (parsed.success) done(null, parsed.data);
        else
          done(
            new HttpProblem(400, 'the JSON body must be {"text": "<Cedar policies>"} and nothing else'),
            undefined,
          );
      } catch {
        done(new HttpProblem(400, 'the body is not valid UTF-8 JSON'), undefined);
      }
    },
  );
}

function nameOf(request: FastifyRequest): PolicySetName {
  const { name } = NamePath.parse(request.params);
  const parsed = PolicySetName.safeParse(name);
  if (!parsed.success)
    throw new HttpProblem(
      400,
      `invalid policy set name ${JSON.stringify(name.slice(0, 80))}: "platform" or a tenant id (lower-case letters, digits and "-")`,
    );
  return parsed.data;
}

function textOf(body: unknown): string {
  const text = (body as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string') throw new HttpProblem(400, 'a body with the Cedar policies is required');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MaxPolicySetBytes)
    throw new HttpProblem(413, `the policy set is ${bytes} bytes; at most ${MaxPolicySetBytes} are accepted`);
  return text;
}

/** The SHA-256 the `If-Match` header names (an ETag of this API), or undefined; a 400 when malformed. */
export function ifMatchOf(request: FastifyRequest): string | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const sha = typeof header === 'string' ? IfMatch.exec(header.trim())?.[1] : undefined;
  if (sha === undefined) throw new HttpProblem(400, 'If-Match must be a quoted SHA-256 (the ETag read)');
  return sha;
}
