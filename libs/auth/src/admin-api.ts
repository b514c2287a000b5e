/**
 * The admin API of API keys, as a Fastify plugin (hosted by ingress): `POST /admin/v1/keys` issues a key
 * and answers its text once, `GET /admin/v1/keys?tenant=` lists a tenant's keys (never a digest or a
 * secret), `POST /admin/v1/keys/:keyId/rotate` replaces one, `DELETE /admin/v1/keys/:keyId` revokes one.
 * Every request is authenticated by its bearer API key before its body is even parsed; an `admin` manages
 * its own tenant, a `platform-admin` every tenant, and nobody grants, rotates or revokes a key with a role
 * above their own. Bodies, query strings and paths are strict zod schemas (an unknown field is a 400).
 * Register it without a prefix; it keeps its own body parser and error handler (plugin encapsulation).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ApiKeyId,
  CreateApiKeyRequest,
  RotateApiKeyRequest,
  TenantId,
  principalRef,
  type ApiKeyList,
  type ApiKeyRecord,
  type ApiKeyView,
  type IssuedApiKey,
  type Principal,
  type RevokedApiKey,
} from '@meshgate/contracts';
import { HttpProblem, sendProblem, toProblem } from './admin-problem';
import { installJsonBody } from '@meshgate/http';
import type { ApiKeyStore, StoredApiKey } from './api-key-store';
import type { ApiKeyVerifier } from './api-key-verifier';
import { authenticateBearer } from './bearer-auth';
import { can, grantRefusal } from './roles';

/** Base path of the routes. */
export const AdminKeysPath = '/admin/v1/keys';

export interface AdminKeysApiOptions {
  store: ApiKeyStore;
  verifier: Pick<ApiKeyVerifier, 'verify' | 'observe'>;
  /** Realm of the `WWW-Authenticate` challenge; `meshgate` by default. */
  realm?: string;
}

/** Largest request body: a key request is a few hundred bytes. */
const BodyLimit = 16 * 1024;

const KeyPath = z.strictObject({ keyId: ApiKeyId });
const ListQuery = z.strictObject({ tenant: TenantId.optional() });

/** The admin API of API keys; see the module comment. */
export const adminKeysApi: FastifyPluginAsync<AdminKeysApiOptions> = async (app, opts) => {
  const { store, verifier } = opts;
  const realm = opts.realm ?? 'meshgate';
  const principals = new WeakMap<FastifyRequest, Principal>();

  installJsonBody(app, BodyLimit);
  app.setErrorHandler((err, request, reply) => {
    const problem = toProblem(err);
    if (problem.status >= 500) request.log.error({ err }, 'admin request failed');
    return sendProblem(reply, request, problem);
  });
  app.addHook('onRequest', async (request) => {
    const auth = authenticateBearer(verifier, request.headers.authorization, realm);
    if (!auth.ok) throw new HttpProblem(auth.status, auth.detail, {}, auth.headers);
    principals.set(request, auth.principal);
  });
  const principalOf = (request: FastifyRequest): Principal => {
    const principal = principals.get(request);
    if (!principal) throw new HttpProblem(401, 'not authenticated');
    return principal;
  };

  app.post(AdminKeysPath, async (request, reply): Promise<IssuedApiKey> => {
    const by = principalOf(request);
    const body = parseInput(CreateApiKeyRequest, request.body, 'body');
    forbidUnless(grantRefusal(by, body.roles, body.tenant));
    const issued = await store.create({
      tenant: body.tenant,
      principal: body.principal,
      kind: body.kind,
      roles: body.roles,
      groups: body.groups,
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.expiresInDays !== undefined ? { expiresInDays: body.expiresInDays } : {}),
    });
    verifier.observe(issued);
    logChange(request, 'API key created', issued, by);
    reply.code(201).header('cache-control', 'no-store');
    return { apiKey: issued.apiKey, key: viewOf(issued.record) };
  });

  app.get(AdminKeysPath, async (request): Promise<ApiKeyList> => {
    const by = principalOf(request);
    const tenant = parseInput(ListQuery, request.query, 'query').tenant ?? by.tenant;
    if (!can(by, 'admin', tenant)) forbidUnless(`this key may not manage the keys of tenant "${tenant}"`);
    return { tenant, keys: (await store.list({ tenant })).map(viewOf) };
  });

  app.post(`${AdminKeysPath}/:keyId/rotate`, async (request, reply): Promise<IssuedApiKey> => {
    const by = principalOf(request);
    const { keyId } = parseInput(KeyPath, request.params, 'path');
    const options = parseInput(RotateApiKeyRequest, request.body ?? {}, 'body');
    await managedKey(store, by, keyId);
    const rotated = await store.rotate(keyId, options);
    if (rotated === null) throw new HttpProblem(404, `no API key ${keyId}`);
    verifier.observe(rotated.issued);
    verifier.observe(rotated.replaced);
    logChange(request, 'API key rotated', rotated.issued, by);
    reply.code(201).header('cache-control', 'no-store');
    return {
      apiKey: rotated.issued.apiKey,
      key: viewOf(rotated.issued.record),
      replaced: viewOf(rotated.replaced.record),
    };
  });

  app.delete(`${AdminKeysPath}/:keyId`, async (request): Promise<RevokedApiKey> => {
    const by = principalOf(request);
    const { keyId } = parseInput(KeyPath, request.params, 'path');
    await managedKey(store, by, keyId);
    const revoked = await store.revoke(keyId);
    if (revoked === null) throw new HttpProblem(404, `no API key ${keyId}`);
    verifier.observe(revoked);
    logChange(request, 'API key revoked', revoked, by);
    return { key: viewOf(revoked.record) };
  });
};

/** The key `keyId` when `by` may manage it: 404 when there is none, 403 when it is above `by`. */
async function managedKey(store: ApiKeyStore, by: Principal, keyId: string): Promise<StoredApiKey> {
  const stored = await store.get(keyId);
  if (stored === null) throw new HttpProblem(404, `no API key ${keyId}`);
  forbidUnless(grantRefusal(by, stored.record.roles, stored.record.tenant));
  return stored;
}

function forbidUnless(refusal: string | null): void {
  if (refusal !== null) throw new HttpProblem(403, refusal);
}

/** A key without its digest. */
function viewOf(record: ApiKeyRecord): ApiKeyView {
  const { hash: _hash, ...view } = record;
  return view;
}

function logChange(request: FastifyRequest, msg: string, stored: StoredApiKey, by: Principal): void {
  const { keyId, tenant, principal, roles } = stored.record;
  request.log.info({ keyId, tenant, principal, roles, by: principalRef(by) }, msg);
}

/** Parses one part of the request with `schema`; a 400 problem naming each bad field otherwise. */
function parseInput<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  where: 'body' | 'query' | 'path',
): z.output<S> {
  const parsed = schema.safeParse(raw ?? (where === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.slice(0, 20).map((issue) => ({
    field: issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 5).join(',') : issue.path.join('.'),
    detail: issue.message,
  }));
  const first = errors[0];
  throw new HttpProblem(
    400,
    first
      ? `invalid ${where}${first.field ? ` field ${first.field}` : ''}: ${first.detail}`
      : `invalid ${where}`,
    { errors },
  );
}
