/**
 * The interim credential of the audit API (until issue 4 brings principals and roles): bearer tokens bound
 * to one tenant each, configured as `MESHGATE_AUDIT_API_TOKENS=tenant:token,...`. Only SHA-256 digests are
 * kept; a presented token is hashed and compared with every digest in constant time. Pure: no I/O.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { TenantId } from '@meshgate/contracts';

/** One configured token: the tenant it may read and the hex SHA-256 digest of the token. */
export const ApiToken = z.object({ tenant: TenantId, digest: z.string().regex(/^[0-9a-f]{64}$/) });
export type ApiToken = z.infer<typeof ApiToken>;

const MAX_TOKEN_CHARS = 512;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Parses `tenant:token,tenant:token`; throws an error naming the bad entry by position (never the token).
 * A token may be listed for several tenants.
 */
export function parseApiTokens(text: string): ApiToken[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, i) => {
      const colon = entry.indexOf(':');
      const tenant = colon > 0 ? entry.slice(0, colon) : '';
      const token = entry.slice(colon + 1);
      if (!TenantId.safeParse(tenant).success)
        throw new Error(`entry ${i + 1} must be tenant:token with a valid tenant id`);
      if (token.length < 16 || token.length > MAX_TOKEN_CHARS || /\s/.test(token))
        throw new Error(
          `entry ${i + 1}: the token must be 16 to ${MAX_TOKEN_CHARS} characters without spaces`,
        );
      return { tenant, digest: sha256(token).toString('hex') };
    });
}

/** The outcome of an authorisation: who read (a label derived from the digest), or why not. */
export type Access =
  { ok: true; principal: string | undefined } | { ok: false; status: 401 | 403; reason: string };

/**
 * Decides whether the `Authorization` header may read `tenant`. With no tokens configured every caller
 * may (the API is then bound to loopback by default).
 */
export function authorize(tokens: readonly ApiToken[], header: string | undefined, tenant: string): Access {
  if (tokens.length === 0) return { ok: true, principal: undefined };
  const m = /^Bearer ([^\s]{1,512})$/i.exec(header ?? '');
  if (!m?.[1])
    return { ok: false, status: 401, reason: 'an "Authorization: Bearer <token>" header is required' };
  const presented = sha256(m[1]);
  const tenants = new Set<string>();
  let label: string | undefined;
  for (const t of tokens) {
    // Every digest is compared, so the time taken does not tell which entry (if any) matched.
    if (timingSafeEqual(Buffer.from(t.digest, 'hex'), presented)) {
      tenants.add(t.tenant);
      label = `audit-token:${t.digest.slice(0, 12)}`;
    }
  }
  if (label === undefined) return { ok: false, status: 401, reason: 'the bearer token is not valid' };
  if (!tenants.has(tenant))
    return {
      ok: false,
      status: 403,
      reason: `this token may not read the audit trail of tenant "${tenant}"`,
    };
  return { ok: true, principal: label };
}
