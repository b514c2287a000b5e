/**
 * The self-service API of principals' own upstream tokens (servers with `auth: {type: 'principal-token'}`),
 * as a Fastify plugin hosted by ingress: `PUT /admin/v1/upstream-tokens/:server` stores the caller's token
 * for one server, `GET` answers only whether one is stored and since when (never the token), `DELETE`
 * removes it. The owner is always the authenticated caller (API key or JWT), so nobody reads, replaces or
 * removes another principal's token. Without MESHGATE_UPSTREAM_TOKEN_KEY every route answers 503. Token
 * values are never logged nor echoed; the plugin keeps its own JSON parser and problem details.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ServerName, principalRef, type Principal } from '@meshgate/contracts';
import {
  HttpProblem,
  installJsonBody,
  sendProblem,
  toProblem as toHttpProblem,
  type ProblemMapping,
} from '@meshgate/http';
import type { KeyVerifier } from './bearer-auth';
import type { JwtVerifier } from './jwt-verifier';
import { authenticateRequest } from './request-auth';
import { UpstreamTokenKeyVar, UpstreamTokenUnreadable } from './upstream-token-crypto';
import {
  InvalidUpstreamTokenInput,
  UpstreamTokenValue,
  type UpstreamTokenOwner,
  type UpstreamTokenStore,
} from './upstream-token-store';

/** Base path of the routes; a server's token lives at `<path>/<server>`. */
export const UpstreamTokensPath = '/admin/v1/upstream-tokens';

/** The body of `PUT /admin/v1/upstream-tokens/:server`. */
export const PutUpstreamTokenRequest = z.strictObject({ token: UpstreamTokenValue });
export type PutUpstreamTokenRequest = z.infer<typeof PutUpstreamTokenRequest>;

/** The answer of `GET /admin/v1/upstream-tokens/:server`: whether a token is stored, never the token. */
export const UpstreamTokenStatus = z.strictObject({
  server: ServerName,
  stored: z.literal(true),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type UpstreamTokenStatus = z.infer<typeof UpstreamTokenStatus>;

export interface UpstreamTokensApiOptions {
  /** The sealed token store; null when MESHGATE_UPSTREAM_TOKEN_KEY is not configured (every route 503). */
  store: Pick<UpstreamTokenStore, 'put' | 'status' | 'delete'> | null;
  /** Verifies API keys. */
  apiKeys: KeyVerifier;
  /** Verifies JWTs; absent: only API keys are accepted. */
  jwt?: Pick<JwtVerifier, 'verify' | 'requiredScopes'> | undefined;
}

/** Largest request body: a token is at most 8192 characters. */
const BodyLimit = 16 * 1024;

const ServerPath = z.strictObject({ server: ServerName });

const mapping: ProblemMapping = {
  domain: (err) => {
    if (err instanceof InvalidUpstreamTokenInput) return new HttpProblem(400, err.message);
    if (err instanceof UpstreamTokenUnreadable)
      return new HttpProblem(409, 'the stored token is unreadable; store it again');
    return undefined;
  },
  unreachable: 'the upstream token store',
};

/** The upstream tokens API; see the module comment. */
export const upstreamTokensApi: FastifyPluginAsync<UpstreamTokensApiOptions> = async (app, opts) => {
  const { store } = opts;
  const deps = { apiKeys: opts.apiKeys, ...(opts.jwt === undefined ? {} : { jwt: opts.jwt }) };
  const owners = new WeakMap<FastifyRequest, Principal>();
  const tokens = (): NonNullable<UpstreamTokensApiOptions['store']> => {
    if (store === null)
      throw new HttpProblem(503, `upstream tokens are disabled: ${UpstreamTokenKeyVar} is not configured`);
    return store;
  };

  installJsonBody(app, BodyLimit);
  app.setErrorHandler((err, request, reply) => {
    const problem = toHttpProblem(err, mapping);
    if (problem.status >= 500) request.log.error({ err }, 'upstream token request failed');
    return sendProblem(reply, request, problem);
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    tokens();
    const auth = await authenticateRequest(request.headers.authorization, deps);
    if (!auth.ok) throw new HttpProblem(auth.status, auth.detail, {}, auth.headers);
    owners.set(request, auth.principal);
  });

  /** The caller as the owner of the token, and the server named by the path. */
  const target = (request: FastifyRequest): { owner: UpstreamTokenOwner; server: string; by: string } => {
    const principal = owners.get(request);
    if (!principal) throw new HttpProblem(401, 'not authenticated');
    const server = parseInput(ServerPath, request.params, 'path').server;
    return {
      owner: { tenant: principal.tenant, principal: principal.id },
      server,
      by: principalRef(principal),
    };
  };

  app.put(`${UpstreamTokensPath}/:server`, async (request, reply) => {
    const { owner, server, by } = target(request);
    const { token } = parseInput(PutUpstreamTokenRequest, request.body, 'body');
    const { updatedAt } = await tokens().put(owner, server, token);
    request.log.info({ principal: by, server, updatedAt }, 'upstream token stored');
    return reply.code(204).send();
  });

  app.get(`${UpstreamTokensPath}/:server`, async (request): Promise<UpstreamTokenStatus> => {
    const { owner, server } = target(request);
    const status = await tokens().status(owner, server);
    if (status === null) throw new HttpProblem(404, `no upstream token stored for server "${server}"`);
    return { server, stored: true, updatedAt: status.updatedAt };
  });

  app.delete(`${UpstreamTokensPath}/:server`, async (request, reply) => {
    const { owner, server, by } = target(request);
    if (!(await tokens().delete(owner, server)))
      throw new HttpProblem(404, `no upstream token stored for server "${server}"`);
    request.log.info({ principal: by, server }, 'upstream token deleted');
    return reply.code(204).send();
  });
};

/** Parses one part of the request with `schema`; a 400 naming the field otherwise (never its value). */
function parseInput<S extends z.ZodType>(schema: S, raw: unknown, where: 'body' | 'path'): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field =
    issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 5).join(',') : (issue?.path.join('.') ?? '');
  throw new HttpProblem(
    400,
    `invalid ${where}${field ? ` field ${field}` : ''}: ${issue?.message ?? 'rejected'}`,
  );
}
