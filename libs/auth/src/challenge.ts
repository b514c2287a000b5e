/**
 * `WWW-Authenticate: Bearer` challenges of the gateway as an OAuth protected resource (RFC 6750 section 3,
 * RFC 9728 section 5.1, MCP authorization): a 401 points the client at the resource metadata (and says
 * why a presented token was refused), a 403 names the scopes needed. Parameter values are quoted strings
 * with `"` and `\` escaped and anything outside printable ASCII replaced, so no value can break the header
 * or inject another parameter; a challenge never carries the token. Pure: no I/O.
 */

/** Longest `error_description` sent; details are short sentences, this only bounds the header. */
const MaxDescription = 200;

/** `value` as an RFC 9110 quoted-string: `"` and `\` escaped, characters outside %x20-7E become `?`. */
export function quoteParam(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return `"${printable.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The error codes of RFC 6750 a 401 may carry. */
export type UnauthorizedError = 'invalid_token' | 'invalid_request';

/** What a 401 challenge says. */
export interface UnauthorizedChallenge {
  /** The RFC 9728 metadata URL of the resource (see `metadataUrlFor`). */
  resourceMetadataUrl?: string;
  /** Set when a credential was presented and refused; absent when none was sent (RFC 6750 section 3.1). */
  error?: UnauthorizedError;
  /** One short sentence; sent only together with `error`. */
  description?: string;
  /** Scopes a token needs, so that the client asks for them (MCP scope selection). */
  scopes?: readonly string[];
  realm?: string;
}

/** The `WWW-Authenticate` value of a 401. */
export function unauthorizedChallenge(challenge: UnauthorizedChallenge): string {
  const params: string[] = [];
  if (challenge.realm !== undefined) params.push(`realm=${quoteParam(challenge.realm)}`);
  if (challenge.resourceMetadataUrl !== undefined)
    params.push(`resource_metadata=${quoteParam(challenge.resourceMetadataUrl)}`);
  if (challenge.error !== undefined) {
    params.push(`error=${quoteParam(challenge.error)}`);
    if (challenge.description !== undefined)
      params.push(`error_description=${quoteParam(challenge.description.slice(0, MaxDescription))}`);
  }
  if (challenge.scopes !== undefined && challenge.scopes.length > 0)
    params.push(`scope=${quoteParam(challenge.scopes.join(' '))}`);
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

/** What a 403 `insufficient_scope` challenge says. */
export interface InsufficientScopeChallenge {
  /** The scopes the request needs (all of them, so that the client can ask for them at once). */
  scopes: readonly string[];
  resourceMetadataUrl?: string;
  description?: string;
}

/** The `WWW-Authenticate` value of a 403 for a token without the scopes needed (RFC 6750 section 3.1). */
export function insufficientScopeChallenge(challenge: InsufficientScopeChallenge): string {
  const params = ['error="insufficient_scope"', `scope=${quoteParam(challenge.scopes.join(' '))}`];
  if (challenge.resourceMetadataUrl !== undefined)
    params.push(`resource_metadata=${quoteParam(challenge.resourceMetadataUrl)}`);
  if (challenge.description !== undefined)
    params.push(`error_description=${quoteParam(challenge.description.slice(0, MaxDescription))}`);
  return `Bearer ${params.join(', ')}`;
}
