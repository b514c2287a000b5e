/**
 * The credentials an HTTP transport sends to its upstream (never the agent's own token): the static
 * `headers`, then those of `auth`: resolved header secrets, a bearer token from OAuth client credentials,
 * or, for servers acting per principal (principal-credentials), a token exchanged for the agent's token or
 * the principal's stored token. Secrets are resolved when the transport starts, i.e. at every (re)connect;
 * tokens are taken from their caches for every request, so they are renewed before they expire, and
 * replaced once when the upstream answers 401. The first token is fetched at connect, so a refusal fails
 * the connection with its reason.
 */
import type { HttpServer, OAuthClientCredentials } from '@meshgate/contracts';
import {
  CredentialError,
  resolveHeaderSecrets,
  resolveSecret,
  type SecretEnvironment,
} from './secret-values';
import { oauthTokens, type TokenCache } from './oauth-tokens';
import { exchangedTokens, type ExchangeCache } from './token-exchange';
import { principalTokenCredentials, tokenExchangeCredentials } from './principal-credentials';
import type { UpstreamCaller } from './upstream-caller';
import { baseHeaders } from './http-common';
import type { HttpAnswer } from './http-request';

/** The credential headers of one transport. */
export interface UpstreamCredentials {
  /** The definition's headers and credentials (lower-case names), as they must be sent now. */
  headers(): Promise<Record<string, string>>;
  /**
   * After a 401 to a request that carried `sent`: resolves true when other credentials are now in place
   * (the request may be sent once more), false when there is nothing to renew.
   */
  renew(sent: Readonly<Record<string, string>>): Promise<boolean>;
}

/** Where credentials come from; the defaults are the router's environment and the process token caches. */
export interface CredentialSources {
  env?: SecretEnvironment;
  tokens?: TokenCache;
  exchanges?: ExchangeCache;
  /** Who a per-session connection acts for (required by servers acting per principal). */
  caller?: UpstreamCaller | undefined;
}

/** Resolves the credentials of `def`; rejects with a CredentialError naming what is missing. */
export async function connectCredentials(
  def: HttpServer,
  sources: CredentialSources = {},
): Promise<UpstreamCredentials> {
  const env = sources.env ?? process.env;
  const fixed = baseHeaders(def.headers);
  const auth = def.auth;
  if (auth === undefined) return staticCredentials(fixed);
  if (auth.type === 'headers')
    return staticCredentials({ ...fixed, ...baseHeaders(await resolveHeaderSecrets(auth.headers, env)) });
  if (auth.type === 'token-exchange' || auth.type === 'principal-token') {
    const caller = sources.caller;
    if (caller === undefined) throw new CredentialError('this server acts per principal: no session given');
    const credentials =
      auth.type === 'principal-token'
        ? principalTokenCredentials(def.name, fixed, auth, caller)
        : tokenExchangeCredentials(
            def.name,
            fixed,
            auth,
            await resolveSecret(auth.clientSecret, 'clientSecret', env),
            caller,
            sources.exchanges ?? exchangedTokens,
            def.timeoutMs,
          );
    await credentials.headers();
    return credentials;
  }
  const secret = await resolveSecret(auth.clientSecret, 'clientSecret', env);
  const tokens = sources.tokens ?? oauthTokens;
  // Fetched now so that a token endpoint refusing the client fails the connection, not a later call.
  await tokens.token(auth, secret, def.timeoutMs);
  return oauthCredentials(fixed, auth, secret, tokens, def.timeoutMs);
}

/**
 * Sends one HTTP request with the credential headers (`send` adds its own). On a 401, credentials that can
 * be renewed (an OAuth token) are renewed once and the request is sent once more.
 */
export async function sendWithCredentials(
  credentials: UpstreamCredentials,
  send: (headers: Record<string, string>) => Promise<HttpAnswer>,
): Promise<HttpAnswer> {
  const sent = await credentials.headers();
  const res = await send(sent);
  if (res.status !== 401) return res;
  const renewed = await credentials.renew(sent).catch((err: unknown) => {
    res.discard();
    throw err;
  });
  if (!renewed) return res;
  res.discard();
  return send(await credentials.headers());
}

function staticCredentials(headers: Record<string, string>): UpstreamCredentials {
  return {
    headers: () => Promise.resolve(headers),
    renew: () => Promise.resolve(false),
  };
}

function oauthCredentials(
  fixed: Record<string, string>,
  auth: OAuthClientCredentials,
  secret: string,
  tokens: TokenCache,
  timeoutMs: number,
): UpstreamCredentials {
  return {
    async headers() {
      return { ...fixed, authorization: `Bearer ${await tokens.token(auth, secret, timeoutMs)}` };
    },
    async renew(sent) {
      const refused = /^Bearer (.+)$/.exec(sent['authorization'] ?? '')?.[1];
      if (refused === undefined) return false;
      return (await tokens.renew(auth, secret, refused, timeoutMs)) !== refused;
    },
  };
}
