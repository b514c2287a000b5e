/**
 * OAuth 2.0 token exchange for upstreams (RFC 8693): the agent's own access token (the call's subject token)
 * is exchanged at the server's authorization server, with client_secret_basic, for a token meant for the
 * upstream; only that token is sent upstream. Issued tokens are cached per (server, tenant, principal,
 * SHA-256 of the subject token, exchange settings) until shortly before they expire, so a session's calls
 * exchange once per agent token, and a token the upstream refused (401) is exchanged again once. Cache keys
 * are digests: neither the subject token nor the client secret is kept in a key.
 */
import { createHash } from 'node:crypto';
import type { TokenExchangeAuth } from '@meshgate/contracts';
import { GrantCache, type Grant } from './grant-cache';
import { postTokenForm } from './oauth-tokens';

/** The grant type of RFC 8693. */
export const TokenExchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The prefix of RFC 8693 token type identifiers. */
export const TokenTypePrefix = 'urn:ietf:params:oauth:token-type:';
/** Most cached exchanged tokens (one per principal, agent token and server); the oldest is dropped beyond. */
const MaxCachedExchanges = 10_000;

/** For whom, and with which agent token, a token is exchanged. */
export interface ExchangeSubject {
  server: string;
  tenant: string;
  principal: string;
  subjectToken: string;
}

/** Asks the authorization server for a token in exchange for `subjectToken`. */
export type ExchangeRequest = (
  auth: TokenExchangeAuth,
  secret: string,
  subjectToken: string,
  timeoutMs: number,
  now: number,
) => Promise<Grant>;

/** One RFC 8693 exchange at `auth.tokenUrl`; errors say what the endpoint answered, never a token. */
export const requestExchange: ExchangeRequest = (auth, secret, subjectToken, timeoutMs, now) => {
  const form = new URLSearchParams({
    grant_type: TokenExchangeGrant,
    subject_token: subjectToken,
    subject_token_type: `${TokenTypePrefix}${auth.subjectTokenType}`,
    requested_token_type: `${TokenTypePrefix}access_token`,
  });
  if (auth.audience !== undefined) form.set('audience', auth.audience);
  if (auth.resource !== undefined) form.set('resource', auth.resource);
  if (auth.scope !== undefined) form.set('scope', auth.scope);
  return postTokenForm(auth, secret, form, timeoutMs, now);
};

/** The exchanged tokens of a process (or of a test). */
export class ExchangeCache {
  private readonly grants: GrantCache;

  constructor(
    private readonly request: ExchangeRequest = requestExchange,
    now: () => number = Date.now,
  ) {
    this.grants = new GrantCache(now, MaxCachedExchanges);
  }

  /** A token for `subject` still valid for a while: the cached one, or a new exchange. */
  token(
    auth: TokenExchangeAuth,
    secret: string,
    subject: ExchangeSubject,
    timeoutMs: number,
  ): Promise<string> {
    return this.grants.token(cacheKey(auth, secret, subject), (now) =>
      this.request(auth, secret, subject.subjectToken, timeoutMs, now),
    );
  }

  /** Exchanges again after the upstream refused `refused` (once for many refusals at the same time). */
  renew(
    auth: TokenExchangeAuth,
    secret: string,
    subject: ExchangeSubject,
    refused: string,
    timeoutMs: number,
  ): Promise<string> {
    return this.grants.renew(cacheKey(auth, secret, subject), refused, (now) =>
      this.request(auth, secret, subject.subjectToken, timeoutMs, now),
    );
  }
}

/** The exchanged tokens of this process, shared by every connection. */
export const exchangedTokens = new ExchangeCache();

function cacheKey(auth: TokenExchangeAuth, secret: string, subject: ExchangeSubject): string {
  const digest = (text: string) => createHash('sha256').update(text).digest('hex');
  const parts = [
    subject.server,
    subject.tenant,
    subject.principal,
    digest(subject.subjectToken),
    auth.tokenUrl,
    auth.clientId,
    digest(secret),
    auth.subjectTokenType,
    auth.audience,
    auth.resource,
    auth.scope,
  ];
  return digest(JSON.stringify(parts));
}
