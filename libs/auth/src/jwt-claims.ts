/**
 * From the verified claims of a JWT to what the gateway works with: the principal (tenant, id, roles,
 * groups) and the granted scopes. A value that is present but unusable (a principal id with a look-alike
 * character, a groups claim that is not a list of names) refuses the token rather than being guessed at;
 * role names the gateway does not know are dropped, since identity providers carry many roles of their
 * own. Pure: no I/O.
 */
import type { JWTPayload } from 'jose';
import { GroupName, PrincipalId, Role, TenantId, type Principal } from '@meshgate/contracts';
import { ScopeToken, type ClaimPath, type JwtIssuerConfig } from './jwt-issuers';

/** A principal, or why the claims do not make one (short, safe to show: no claim value is echoed). */
export type ClaimsMapping = { ok: true; principal: Principal } | { ok: false; detail: string };

/** Most groups and scopes one token may carry. */
const MaxGroups = 32;
const MaxScopes = 256;

/** The value at `path` in `claims`, or undefined when any step is missing or not an object. */
export function claimAt(claims: JWTPayload, path: ClaimPath): unknown {
  let value: unknown = claims;
  for (const name of typeof path === 'string' ? [path] : path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, name))
      return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** The display name of a claim path in a detail message. */
function nameOf(path: ClaimPath): string {
  return typeof path === 'string' ? path : path.join('.');
}

/** A list claim as strings: a JSON array of strings or one space-separated string; null otherwise. */
function stringList(value: unknown): string[] | null {
  if (typeof value === 'string') return value.split(' ').filter((item) => item !== '');
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return null;
}

/** Maps verified claims to the principal they authenticate, under one issuer's configuration. */
export function principalFromClaims(claims: JWTPayload, issuer: JwtIssuerConfig): ClaimsMapping {
  const id = PrincipalId.safeParse(claimAt(claims, issuer.principalClaim));
  if (!id.success)
    return { ok: false, detail: `the ${nameOf(issuer.principalClaim)} claim is not a valid principal id` };

  let tenant: string;
  if ('fixed' in issuer.tenant) tenant = issuer.tenant.fixed;
  else {
    const parsed = TenantId.safeParse(claimAt(claims, issuer.tenant.claim));
    if (!parsed.success)
      return { ok: false, detail: `the ${nameOf(issuer.tenant.claim)} claim is not a valid tenant id` };
    tenant = parsed.data;
  }

  let roles: Role[] = [...issuer.defaultRoles];
  const rolesValue = issuer.rolesClaim === undefined ? undefined : claimAt(claims, issuer.rolesClaim);
  if (issuer.rolesClaim !== undefined && rolesValue !== undefined) {
    const names = stringList(rolesValue);
    if (names === null)
      return { ok: false, detail: `the ${nameOf(issuer.rolesClaim)} claim is not a list of role names` };
    const known = new Set(names.filter((name): name is Role => Role.safeParse(name).success));
    roles = issuer.grantableRoles.filter((role) => known.has(role));
  }

  let groups: string[] = [];
  if (issuer.groupsClaim !== undefined) {
    const value = claimAt(claims, issuer.groupsClaim);
    const names = value === undefined ? [] : stringList(value);
    const label = nameOf(issuer.groupsClaim);
    if (names === null) return { ok: false, detail: `the ${label} claim is not a list of group names` };
    groups = [...new Set(names)];
    if (groups.length > MaxGroups)
      return { ok: false, detail: `the ${label} claim holds more than 32 groups` };
    if (!groups.every((name) => GroupName.safeParse(name).success))
      return { ok: false, detail: `the ${label} claim holds an invalid group name` };
  }

  return { ok: true, principal: Object.freeze({ tenant, id: id.data, kind: issuer.kind, roles, groups }) };
}

/**
 * The scopes a token grants: its `scope` claim (space-separated, RFC 8693 / RFC 9068), or else its `scp`
 * claim (an array, or a space-separated string as some providers send it). Distinct, in token order;
 * null when the claim is malformed.
 */
export function scopesFromClaims(claims: JWTPayload): string[] | null {
  const scope = claims['scope'];
  const value = scope !== undefined ? (typeof scope === 'string' ? scope : null) : claims['scp'];
  if (value === undefined) return [];
  const scopes = stringList(value);
  if (scopes === null) return null;
  const unique = [...new Set(scopes)];
  if (unique.length > MaxScopes || !unique.every((s) => ScopeToken.safeParse(s).success)) return null;
  return unique;
}

/** The required scopes a grant lacks, in configuration order. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  const held = new Set(granted);
  return required.filter((scope) => !held.has(scope));
}
