/**
 * Authentication of the MCP endpoints (issue 4, secure by default): every request carries an API key or a
 * JWT of a configured issuer as `Authorization: Bearer ...`, or is refused before anything else happens:
 * 401 with a `WWW-Authenticate` challenge naming the endpoint's protected resource metadata (RFC 9728),
 * 403 `insufficient_scope` when a token lacks the scopes its issuer requires, 503 when credentials cannot
 * be checked right now. The agent's credential goes no further than this module: nothing derived from it
 * but the principal travels on. With `MESHGATE_AUTH=none` every request runs as the anonymous agent.
 */
import type { FastifyRequest } from 'fastify';
import {
  ApiKeyPrefix,
  authenticateRequest,
  bearerCredential,
  metadataUrlFor,
  protectedResourceMetadata,
  type ApiKeyVerifier,
  type JwtIssuerConfig,
  type JwtVerifier,
  type RequestAuth,
} from '@meshgate/auth';
import { AnonymousPrincipal, type Caller } from './request-principal';

/** A refusal, ready to be answered. */
export interface AuthRefusal {
  status: 401 | 403 | 503;
  scheme: 'api-key' | 'jwt' | 'none';
  reason: string;
  detail: string;
  headers: Record<string, string>;
}

/** The caller of a request, or why it is refused. */
export type EdgeAuthResult = { ok: true; caller: Caller } | { ok: false; refusal: AuthRefusal };

/** Authentication of one ingress instance. */
export interface EdgeAuth {
  readonly mode: 'on' | 'none';
  /** The caller of `request`, or why it is refused: at once for an API key, through a promise for a JWT. */
  authenticate(request: FastifyRequest): EdgeAuthResult | Promise<EdgeAuthResult>;
  /** The OAuth resource identifier of the endpoint `request` reached (`<public URL><path>`). */
  resourceOf(request: FastifyRequest): string;
  /**
   * The protected resource metadata (RFC 9728) of the endpoint at `path` (`/mcp`, `/servers/x/mcp`); null
   * without OAuth issuers (the MCP authorization spec requires the document to name at least one).
   */
  metadata(path: string): Record<string, unknown> | null;
}

export interface EdgeAuthDeps {
  mode: 'on' | 'none';
  apiKeys: ApiKeyVerifier;
  jwt: JwtVerifier | undefined;
  issuers: readonly JwtIssuerConfig[];
  /** The gateway's URL as agents reach it (no trailing slash). */
  publicUrl: () => string;
}

const Anonymous: Caller = Object.freeze({ principal: AnonymousPrincipal, scheme: 'none' as const });
const AnonymousResult: EdgeAuthResult = Object.freeze({ ok: true as const, caller: Anonymous });

/** The MCP endpoint path of a request (`/mcp` or `/servers/<name>/mcp`), without its query. */
function endpointPath(request: FastifyRequest): string {
  const url = request.url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Which kind of credential a refused header carried, for the audit event. */
function schemeOf(header: string | undefined): AuthRefusal['scheme'] {
  const credential = bearerCredential(header);
  if (credential === null) return 'none';
  return credential.startsWith(ApiKeyPrefix) ? 'api-key' : 'jwt';
}

/** Creates the authentication of one instance. */
export function createEdgeAuth(deps: EdgeAuthDeps): EdgeAuth {
  const resourceOf = (request: FastifyRequest) => `${deps.publicUrl()}${endpointPath(request)}`;
  const scopes = [...new Set(deps.issuers.flatMap((i) => i.requiredScopes ?? []))];
  const oauth = deps.issuers.length > 0;
  const metadata = (path: string) =>
    !oauth
      ? null
      : protectedResourceMetadata({
          resource: `${deps.publicUrl()}${path}`,
          authorizationServers: deps.issuers.map((i) => i.issuer),
          ...(scopes.length > 0 ? { scopesSupported: scopes } : {}),
          resourceName: 'Meshgate MCP gateway',
        });
  if (deps.mode === 'none')
    return {
      mode: 'none',
      authenticate: () => AnonymousResult,
      resourceOf,
      metadata,
    };
  const baseDeps = { apiKeys: deps.apiKeys, ...(deps.jwt ? { jwt: deps.jwt } : {}) };
  return {
    mode: 'on',
    resourceOf,
    metadata,
    authenticate(request) {
      const raw = request.headers['authorization'];
      if (Array.isArray(raw))
        return {
          ok: false,
          refusal: {
            status: 401,
            scheme: 'none',
            reason: 'malformed',
            detail: 'send one Authorization header',
            headers: {
              'www-authenticate': `Bearer resource_metadata="${metadataUrlFor(resourceOf(request))}"`,
            },
          },
        };
      // The metadata URL is per endpoint, so a request names it only where OAuth issuers are configured.
      const result = authenticateRequest(
        raw,
        oauth ? { ...baseDeps, resourceMetadataUrl: metadataUrlFor(resourceOf(request)) } : baseDeps,
      );
      return result instanceof Promise ? result.then((r) => edgeResult(r, raw)) : edgeResult(result, raw);
    },
  };
}

/** What ingress makes of an authentication result: the caller, or the refusal to answer. */
/** The result for each API key's shared answer (see ApiKeyVerifier), made once: its requests share it. */
const apiKeyResults = new WeakMap<RequestAuth, EdgeAuthResult>();

function edgeResult(result: RequestAuth, raw: string | undefined): EdgeAuthResult {
  if (result.ok && result.scheme === 'api-key') {
    let shared = apiKeyResults.get(result);
    if (shared === undefined) {
      const caller: Caller = Object.freeze({ principal: result.principal, scheme: result.scheme });
      shared = Object.freeze({ ok: true as const, caller });
      apiKeyResults.set(result, shared);
    }
    return shared;
  }
  const token = result.ok && result.scheme === 'jwt' ? bearerCredential(raw) : null;
  if (result.ok)
    return {
      ok: true,
      caller: {
        principal: result.principal,
        scheme: result.scheme,
        ...(result.scopes ? { scopes: result.scopes } : {}),
        ...(token !== null ? { token } : {}),
      },
    };
  return {
    ok: false,
    refusal: {
      status: result.status,
      scheme: schemeOf(raw),
      reason: result.reason,
      detail: result.detail,
      headers: result.headers,
    },
  };
}
