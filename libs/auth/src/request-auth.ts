/**
 * Authentication of an agent's HTTP request by its Authorization header, for either kind of bearer
 * credential: a Meshgate API key (`mgk_...`, verified in memory, synchronously) or a JWT / OAuth access
 * token (verified against the configured issuers). A refusal carries its status and the headers to send:
 * 401 with an RFC 9728 / RFC 6750 challenge, 403 `insufficient_scope` with the scopes needed, or 503 with
 * `retry-after` when the credential cannot be checked right now. The credential is never echoed.
 */
import type { Principal } from '@meshgate/contracts';
import { ApiKeyLength, ApiKeyPrefix } from './api-key-format';
import type { RefusalReason, VerifyResult } from './api-key-verifier';
import type { KeyVerifier } from './bearer-auth';
import { insufficientScopeChallenge, unauthorizedChallenge, type UnauthorizedError } from './challenge';
import type { JwtRefusalReason, JwtVerifier } from './jwt-verifier';

/** Longest Authorization header value looked at (the scheme included). */
export const MaxAuthorizationLength = 8 * 1024;

/** Why a request is refused: the header itself, the API key, or the JWT. */
export type RequestAuthReason =
  'missing' | 'unsupported-scheme' | 'bad-header' | RefusalReason | JwtRefusalReason;

/** Who sent the request, or why it is refused and what to answer. */
export type RequestAuth =
  | { ok: true; principal: Principal; scheme: 'api-key'; keyId: string; scopes?: never }
  | { ok: true; principal: Principal; scheme: 'jwt'; scopes: string[]; keyId?: never }
  | {
      ok: false;
      status: 401 | 403 | 503;
      reason: RequestAuthReason;
      /** One short sentence, safe to show. */
      detail: string;
      /** `www-authenticate` and/or `retry-after`, lower-case names. */
      headers: Record<string, string>;
    };

/** What authentication needs: the API key verifier, optionally the JWT verifier and the metadata URL. */
export interface RequestAuthDeps {
  apiKeys: KeyVerifier;
  /** Absent: only API keys are accepted. */
  jwt?: Pick<JwtVerifier, 'verify' | 'requiredScopes'>;
  /** The RFC 9728 metadata URL named in every challenge (see `metadataUrlFor`). */
  resourceMetadataUrl?: string;
}

type Refusal = RequestAuth & { ok: false };

const ApiKeyDetails: Record<RefusalReason, string> = {
  malformed: 'the bearer credential is not a Meshgate API key',
  unknown: 'the API key is not valid',
  revoked: 'the API key was revoked',
  expired: 'the API key has expired',
  unavailable: 'API keys cannot be verified right now; retry later',
};

/** `Bearer mgk_…`: the header of an API key in its usual form, and its length. */
const BearerPrefixLength = 'Bearer '.length;
const BearerApiKey = `Bearer ${ApiKeyPrefix}`;
const BearerApiKeyLength = BearerPrefixLength + ApiKeyLength;

/** RFC 6750 b64token: the characters a bearer credential may have. */
const B64Token = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Authenticates the value of an Authorization header (undefined when the request has none). An API key is
 * verified in memory and answered at once; only a JWT is answered through a promise (its issuer's keys may
 * have to be fetched), so the hot path of API-key agents allocates no promise here.
 */
export function authenticateRequest(
  authorization: string | undefined,
  deps: RequestAuthDeps,
): RequestAuth | Promise<RequestAuth> {
  // The common case first: exactly "Bearer " and a well-formed API key, which the checks below would all
  // pass. The verifier's answer for an active key is one shared object, returned as it is.
  if (
    authorization !== undefined &&
    authorization.length === BearerApiKeyLength &&
    authorization.startsWith(BearerApiKey)
  ) {
    const result = deps.apiKeys.verify(authorization.slice(BearerPrefixLength));
    // Malformed (a space or a comma inside, say): the checks below tell what is wrong with the header.
    if (result.ok || result.reason !== 'malformed') return apiKeyAuth(result, deps);
  }
  if (authorization === undefined || authorization.trim() === '')
    return unauthorized(deps, 'missing', 'an "Authorization: Bearer <token>" header is required');
  if (authorization.length > MaxAuthorizationLength)
    return unauthorized(
      deps,
      'bad-header',
      'the Authorization header is longer than 8 KB',
      'invalid_request',
    );
  const [, scheme = '', rest = ''] = /^(\S*)[ \t]*(.*)$/s.exec(authorization.trim()) ?? [];
  if (scheme.toLowerCase() !== 'bearer')
    return unauthorized(
      deps,
      'unsupported-scheme',
      'only "Authorization: Bearer <token>" credentials are accepted',
    );
  if (rest === '')
    return unauthorized(deps, 'bad-header', 'the Bearer credential is missing', 'invalid_request');
  if (/[\s,]/.test(rest))
    return unauthorized(
      deps,
      'bad-header',
      'the header must carry exactly one Bearer credential',
      'invalid_request',
    );
  if (!B64Token.test(rest))
    return unauthorized(
      deps,
      'malformed',
      'the bearer credential has characters no token has',
      'invalid_token',
    );

  if (rest.startsWith(ApiKeyPrefix)) return apiKeyAuth(deps.apiKeys.verify(rest), deps);
  if (deps.jwt === undefined)
    return unauthorized(deps, 'malformed', ApiKeyDetails.malformed, 'invalid_token');
  return authenticateJwt(rest, deps, deps.jwt);
}

/** The answer for an API key the verifier answered `result` for. */
function apiKeyAuth(result: VerifyResult, deps: RequestAuthDeps): RequestAuth {
  if (result.ok) return result;
  if (result.reason === 'unavailable') return unavailable(ApiKeyDetails.unavailable);
  return unauthorized(deps, result.reason, ApiKeyDetails[result.reason], 'invalid_token');
}

/** The JWT branch of `authenticateRequest`. */
async function authenticateJwt(
  rest: string,
  deps: RequestAuthDeps,
  jwt: NonNullable<RequestAuthDeps['jwt']>,
): Promise<RequestAuth> {
  const result = await jwt.verify(rest);
  if (result.ok) return { ok: true, principal: result.principal, scheme: 'jwt', scopes: result.scopes };
  if (result.reason === 'unavailable') return unavailable(result.detail);
  if (result.reason === 'insufficient_scope') {
    const challenge = insufficientScopeChallenge({
      scopes: result.scopes ?? [],
      ...(deps.resourceMetadataUrl === undefined ? {} : { resourceMetadataUrl: deps.resourceMetadataUrl }),
      description: result.detail,
    });
    return {
      ok: false,
      status: 403,
      reason: result.reason,
      detail: result.detail,
      headers: { 'www-authenticate': challenge },
    };
  }
  return unauthorized(deps, result.reason, result.detail, 'invalid_token');
}

function unauthorized(
  deps: RequestAuthDeps,
  reason: RequestAuthReason,
  detail: string,
  error?: UnauthorizedError,
): Refusal {
  const scopes = deps.jwt?.requiredScopes ?? [];
  const challenge = unauthorizedChallenge({
    ...(deps.resourceMetadataUrl === undefined ? {} : { resourceMetadataUrl: deps.resourceMetadataUrl }),
    ...(error === undefined ? {} : { error, description: detail }),
    ...(scopes.length === 0 ? {} : { scopes }),
  });
  return { ok: false, status: 401, reason, detail, headers: { 'www-authenticate': challenge } };
}

function unavailable(detail: string): Refusal {
  return { ok: false, status: 503, reason: 'unavailable', detail, headers: { 'retry-after': '5' } };
}
