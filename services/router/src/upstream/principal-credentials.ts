/**
 * The credentials of servers that act for each principal: a token exchanged for the agent's own token
 * (RFC 8693, `token-exchange`), or the principal's own stored token (`principal-token`). Both are taken for
 * every request, so a session's refreshed agent token or a replaced stored token is used at once, and both
 * are renewed once after a 401. The agent's token itself is never among the headers.
 */
import { principalRef, type PrincipalTokenAuth, type TokenExchangeAuth } from '@meshgate/contracts';
import { CredentialError } from './secret-values';
import type { ExchangeCache, ExchangeSubject } from './token-exchange';
import type { UpstreamCaller } from './upstream-caller';
import type { UpstreamCredentials } from './upstream-credentials';

/** The message of a call without an agent JWT to a token-exchange server. */
export const NeedsJwtMessage = 'this server needs a token exchange: authenticate with a JWT';

/** Credentials exchanging the caller's subject token; `fixed` are the definition's own headers. */
export function tokenExchangeCredentials(
  server: string,
  fixed: Record<string, string>,
  auth: TokenExchangeAuth,
  secret: string,
  caller: UpstreamCaller,
  exchanges: ExchangeCache,
  timeoutMs: number,
): UpstreamCredentials {
  const subject = (): ExchangeSubject => {
    const principal = caller.principal();
    const subjectToken = caller.subjectToken();
    if (principal === undefined) throw new CredentialError('the session is unknown to this router');
    if (subjectToken === undefined) throw new CredentialError(NeedsJwtMessage);
    return { server, tenant: principal.tenant, principal: principal.id, subjectToken };
  };
  return {
    async headers() {
      const token = await exchanges.token(auth, secret, subject(), timeoutMs);
      return { ...fixed, authorization: `Bearer ${token}` };
    },
    async renew(sent) {
      const refused = /^Bearer (.+)$/.exec(sent['authorization'] ?? '')?.[1];
      if (refused === undefined) return false;
      return (await exchanges.renew(auth, secret, subject(), refused, timeoutMs)) !== refused;
    },
  };
}

/** Credentials sending the caller's stored upstream token, as a bearer or in `auth.header`. */
export function principalTokenCredentials(
  server: string,
  fixed: Record<string, string>,
  auth: PrincipalTokenAuth,
  caller: UpstreamCaller,
): UpstreamCredentials {
  const header = (auth.header ?? 'authorization').toLowerCase();
  const owner = () => {
    const principal = caller.principal();
    if (principal === undefined) throw new CredentialError('the session is unknown to this router');
    return { principal, key: { tenant: principal.tenant, principal: principal.id } };
  };
  const value = async (): Promise<string> => {
    const tokens = caller.principalTokens;
    const { principal, key } = owner();
    if (tokens === undefined) throw new CredentialError('this router has no upstream token store');
    const token = await tokens.token(key, server);
    if (token === undefined)
      throw new CredentialError(`no upstream token stored for ${principalRef(principal)} on ${server}`);
    return header === 'authorization' ? `Bearer ${token}` : token;
  };
  return {
    async headers() {
      return { ...fixed, [header]: await value() };
    },
    async renew(sent) {
      caller.principalTokens?.forget(owner().key, server);
      return (await value()) !== sent[header];
    },
  };
}
