/**
 * What a principal may do, decided from its roles alone: `platform-admin` anything in every tenant; the
 * other roles only in the principal's own tenant, where `admin` implies `auditor`. Who may issue which
 * keys follows from it: nobody grants a role above their own, and a key can only be rotated or revoked by
 * someone who could have issued it (rotation hands out a new secret with the same roles). Pure: no I/O.
 */
import type { Principal, Role } from '@meshgate/contracts';

/** Roles that a role includes besides itself, within the principal's tenant. */
const Implied: Readonly<Record<Role, readonly Role[]>> = {
  'platform-admin': ['admin', 'auditor', 'agent'],
  admin: ['auditor'],
  auditor: [],
  agent: [],
};

/** True when `principal` may act as `role` in `tenant`. */
export function can(principal: Pick<Principal, 'tenant' | 'roles'>, role: Role, tenant: string): boolean {
  if (principal.roles.includes('platform-admin')) return true;
  if (principal.tenant !== tenant) return false;
  return principal.roles.some((held) => held === role || Implied[held].includes(role));
}

/**
 * True when `granter` may issue a key with `roles` in `tenant`: it must administer that tenant, and only a
 * platform admin may grant `platform-admin`.
 */
export function mayGrant(
  granter: Pick<Principal, 'tenant' | 'roles'>,
  roles: readonly Role[],
  tenant: string,
): boolean {
  if (!can(granter, 'admin', tenant)) return false;
  return !roles.includes('platform-admin') || granter.roles.includes('platform-admin');
}

/** Why `mayGrant` refused, for the 403 answer; null when it did not. */
export function grantRefusal(
  granter: Pick<Principal, 'tenant' | 'roles'>,
  roles: readonly Role[],
  tenant: string,
): string | null {
  if (!can(granter, 'admin', tenant)) return `this key may not manage the keys of tenant "${tenant}"`;
  if (!mayGrant(granter, roles, tenant)) return 'only a platform-admin key may grant the role platform-admin';
  return null;
}
