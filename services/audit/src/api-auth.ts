/**
 * Who may read the audit API: a principal authenticated by its API key (the watch-fed verifier of
 * libs/auth, no NATS round trip per read) that may act as `auditor` in the queried tenant: an auditor or
 * admin of that tenant, or a platform admin. `MESHGATE_AUDIT_AUTH=none` opens the API to every caller for
 * local trials; the service warns at start. Pure: the verifier is passed in.
 */
import { authenticateBearer, can, type KeyVerifier } from '@meshgate/auth';
import { principalRef } from '@meshgate/contracts';

/** How the API authenticates its callers. */
export type AuditApiAuth = { mode: 'api-key'; verifier: KeyVerifier } | { mode: 'none' };

/** The realm of the API's `WWW-Authenticate` challenges. */
export const AuditRealm = 'meshgate-audit';

/** The outcome of an authorisation: who read (`<tenant>/<principal id>`), or why not. */
export type Access =
  | { ok: true; principal: string | undefined }
  | {
      ok: false;
      status: 401 | 403 | 503;
      reason: string;
      /** The principal refused, when it authenticated (403). */
      principal?: string;
      headers: Record<string, string>;
    };

/** Decides whether the `Authorization` header may read the audit trail of `tenant`. */
export function authorize(auth: AuditApiAuth, header: string | undefined, tenant: string): Access {
  if (auth.mode === 'none') return { ok: true, principal: undefined };
  const who = authenticateBearer(auth.verifier, header, AuditRealm);
  if (!who.ok) return { ok: false, status: who.status, reason: who.detail, headers: who.headers };
  const principal = principalRef(who.principal);
  if (!can(who.principal, 'auditor', tenant))
    return {
      ok: false,
      status: 403,
      reason: `principal "${principal}" may not read the audit trail of tenant "${tenant}"`,
      principal,
      headers: {},
    };
  return { ok: true, principal };
}
