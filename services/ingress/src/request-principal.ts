/**
 * Who sent a request to an MCP endpoint, as the authentication step of the MCP guard found it: attached
 * to the Fastify request once, read by every step after it (session binding, policy, audit), so no handler
 * passes it along by hand. With `MESHGATE_AUTH=none` every request runs as the anonymous agent below.
 */
import type { FastifyRequest } from 'fastify';
import { DefaultTenant, type Principal } from '@meshgate/contracts';

/** How a principal was authenticated. */
export type AuthScheme = 'api-key' | 'jwt' | 'none';

/** The authenticated sender of one request. */
export interface Caller {
  principal: Principal;
  scheme: AuthScheme;
  /** OAuth scopes the token granted (JWT only). */
  scopes?: readonly string[];
  /** The JWT itself (JWT only): the subject token of a token exchange the router may make for it. */
  token?: string;
}

/** The principal of every request while authentication is off (`MESHGATE_AUTH=none`, local trials). */
export const AnonymousPrincipal: Principal = Object.freeze({
  tenant: DefaultTenant,
  id: 'anonymous',
  kind: 'user',
  roles: Object.freeze(['agent']) as Principal['roles'],
  groups: Object.freeze([]) as unknown as Principal['groups'],
});

const callers = new WeakMap<FastifyRequest, Caller>();

/** Attaches the authenticated caller of `request` (the MCP guard does). */
export function attachCaller(request: FastifyRequest, caller: Caller): void {
  callers.set(request, caller);
}

/**
 * The caller of a request that passed the MCP guard. Throws for a request that did not: a handler reached
 * without authentication is a wiring fault, never a reason to act as anyone.
 */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error('request reached a handler without authentication');
  return caller;
}

/** True when `a` and `b` are the same principal (tenant and id). */
export function samePrincipal(
  a: Pick<Principal, 'tenant' | 'id'>,
  b: Pick<Principal, 'tenant' | 'id'>,
): boolean {
  return a.tenant === b.tenant && a.id === b.id;
}
