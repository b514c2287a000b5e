/**
 * OAuth 2.0 client credentials for upstreams (RFC 6749 section 4.4): the router authenticates to the token
 * endpoint with client_secret_basic and sends the access token it gets as a bearer. Tokens are cached per
 * (endpoint, client, secret, scope, audience, resource) until shortly before they expire, shared by every
 * connection and fetched once however many connections ask at the same time; a token the upstream refused
 * (401) is replaced once. The cache key holds a hash of the secret, never the secret.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { OAuthClientCredentials } from '@meshgate/contracts';
import { httpRequest } from './http-request';
import { CredentialError } from './secret-values';
import { parseJson } from './transport';
import { GrantCache, type Grant } from './grant-cache';

export type { Grant } from './grant-cache';

/** A token is renewed this long before it expires, or after 90% of its lifetime when that is sooner. */
export const RenewBeforeExpiryMs = 60_000;
/** Most cached tokens; the oldest is dropped beyond it. */
const MaxCachedTokens = 1000;

const TokenAnswer = z.looseObject({
  access_token: z.string().min(1).max(16_384),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type is not Bearer'),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
});
const TokenRefusal = z.looseObject({
  error: z.string().max(200),
  error_description: z.string().optional(),
});

/** Asks the token endpoint for a token. */
export type TokenRequest = (
  auth: OAuthClientCredentials,
  secret: string,
  timeoutMs: number,
  now: number,
) => Promise<Grant>;

/** One client credentials grant at `auth.tokenUrl`; errors say what the endpoint answered, never a secret. */
export const requestToken: TokenRequest = (auth, secret, timeoutMs, now) => {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (auth.scope !== undefined) form.set('scope', auth.scope);
  if (auth.audience !== undefined) form.set('audience', auth.audience);
  if (auth.resource !== undefined) form.set('resource', auth.resource);
  return postTokenForm(auth, secret, form, timeoutMs, now);
};

/**
 * POSTs `form` to the token endpoint `tokenUrl` with client_secret_basic and reads the grant it answers
 * (RFC 6749 section 5; RFC 8693 section 2.2 adds fields this ignores); errors say what the endpoint answered.
 */
export async function postTokenForm(
  client: { tokenUrl: string; clientId: string },
  secret: string,
  form: URLSearchParams,
  timeoutMs: number,
  now: number,
): Promise<Grant> {
  const basic = Buffer.from(`${formEncode(client.clientId)}:${formEncode(secret)}`).toString('base64');
  let status: number;
  let body: string;
  try {
    const res = await httpRequest(client.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      timeoutMs,
    });
    status = res.status;
    body = await res.text();
  } catch (err) {
    throw new CredentialError(`token endpoint failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const json = parseJson(body);
  if (status < 200 || status >= 300) {
    const refusal = TokenRefusal.safeParse(json);
    const why = refusal.success
      ? `: ${refusal.data.error}${refusal.data.error_description ? ` (${refusal.data.error_description.slice(0, 200)})` : ''}`
      : '';
    throw new CredentialError(`token endpoint answered HTTP ${status}${why}`);
  }
  const answer = TokenAnswer.safeParse(json);
  if (!answer.success)
    throw new CredentialError(`token endpoint answer is invalid: ${answer.error.issues[0]?.message ?? ''}`);
  const lifetimeMs = answer.data.expires_in === undefined ? undefined : answer.data.expires_in * 1000;
  return {
    token: answer.data.access_token,
    renewAt:
      lifetimeMs === undefined
        ? undefined
        : now + lifetimeMs - Math.min(RenewBeforeExpiryMs, lifetimeMs / 10),
  };
}

/** The cached client credentials tokens of a process (or of a test). */
export class TokenCache {
  private readonly grants: GrantCache;

  constructor(
    private readonly request: TokenRequest = requestToken,
    now: () => number = Date.now,
  ) {
    this.grants = new GrantCache(now, MaxCachedTokens);
  }

  /** A token still valid for a while: the cached one, or a new one. */
  token(auth: OAuthClientCredentials, secret: string, timeoutMs: number): Promise<string> {
    return this.grants.token(cacheKey(auth, secret), (now) => this.request(auth, secret, timeoutMs, now));
  }

  /**
   * Replaces `refused`, a token the upstream answered 401 to, unless it was already replaced (many requests
   * refused at once cause one fetch). Resolves to the token to retry with.
   */
  renew(auth: OAuthClientCredentials, secret: string, refused: string, timeoutMs: number): Promise<string> {
    return this.grants.renew(cacheKey(auth, secret), refused, (now) =>
      this.request(auth, secret, timeoutMs, now),
    );
  }
}

/** The tokens of this process, shared by every upstream connection. */
export const oauthTokens = new TokenCache();

function cacheKey(auth: OAuthClientCredentials, secret: string): string {
  const parts = [auth.tokenUrl, auth.clientId, secret, auth.scope, auth.audience, auth.resource];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 section 2.3.1). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
