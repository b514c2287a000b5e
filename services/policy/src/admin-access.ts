/**
 * Who may manage which policy set through the admin API: a principal authenticated by its bearer API key
 * (the watch-fed verifier of libs/auth, no NATS round trip per request) manages the set `platform` when it
 * is a platform-admin, and the set of tenant T when it may act as `admin` of T (an admin of T, or a
 * platform-admin). Reading a set needs the same right as changing it: policies reveal what a tenant's
 * principals may do. The limits span tenants: only a platform-admin reads or changes them.
 * `MESHGATE_POLICY_AUTH=none` opens the API to every caller, for local trials only.
 */
import { authenticateBearer, can, type KeyVerifier } from '@meshgate/auth';
import { principalRef, type PolicySetName, type Principal } from '@meshgate/contracts';
import { HttpProblem } from '@meshgate/http';

/** How the API authenticates its callers. */
export type PolicyApiAuth = { mode: 'api-key'; verifier: KeyVerifier } | { mode: 'none' };

/** The realm of the API's `WWW-Authenticate` challenges. */
export const PolicyRealm = 'meshgate-policy';

/** The caller: a principal, or anyone when authentication is off. */
export type Caller = { principal: Principal } | { principal: null };

/** Authenticates the `Authorization` header; throws the 401/503 problem. */
export function authenticate(auth: PolicyApiAuth, header: string | undefined): Caller {
  if (auth.mode === 'none') return { principal: null };
  const who = authenticateBearer(auth.verifier, header, PolicyRealm);
  if (!who.ok) throw new HttpProblem(who.status, who.detail, {}, who.headers);
  return { principal: who.principal };
}

/** True when `caller` may read and change the set `name`. */
export function mayManage(caller: Caller, name: PolicySetName): boolean {
  const p = caller.principal;
  if (p === null) return true;
  return name === 'platform' ? p.roles.includes('platform-admin') : can(p, 'admin', name);
}

/** Throws the 403 problem unless `caller` may manage the set `name`. */
export function requireManage(caller: Caller, name: PolicySetName): void {
  if (mayManage(caller, name)) return;
  const who = caller.principal ? principalRef(caller.principal) : 'anonymous';
  throw new HttpProblem(
    403,
    name === 'platform'
      ? `principal "${who}" may not manage the platform policy set (platform-admin only)`
      : `principal "${who}" may not manage the policy set of tenant "${name}"`,
  );
}

/** Throws the 403 problem unless `caller` may manage some set (its own tenant's, or all). */
export function requireAnyManage(caller: Caller): void {
  const p = caller.principal;
  if (p === null || p.roles.includes('platform-admin') || can(p, 'admin', p.tenant)) return;
  throw new HttpProblem(403, `principal "${principalRef(p)}" may not manage policy sets`);
}

/** Throws the 403 problem unless `caller` may read and change the limits (platform-admin only). */
export function requireManageLimits(caller: Caller): void {
  const p = caller.principal;
  if (p === null || p.roles.includes('platform-admin')) return;
  throw new HttpProblem(
    403,
    `principal "${principalRef(p)}" may not manage the limits (platform-admin only: they span tenants)`,
  );
}

/** The `source` a change made by `caller` is recorded with. */
export function sourceOf(caller: Caller): string {
  return caller.principal ? `api:${principalRef(caller.principal)}` : 'api:anonymous';
}
