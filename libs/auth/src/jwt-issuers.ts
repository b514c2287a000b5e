/**
 * Which JWT issuers the gateway trusts and how their tokens map to principals: the configuration schema,
 * parsed by the composition root from a JSON environment variable. Strict (an unknown or misspelt field is
 * refused), secure by default: https only (plain http only on loopback, for tests), asymmetric algorithms
 * only, a bounded clock skew, and no `platform-admin` from a token unless an issuer is allowed to grant it.
 * Pure: no I/O.
 */
import { z } from 'zod';
import { PrincipalKind, Role, TenantId } from '@meshgate/contracts';

const LoopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why `text` is not a URL the gateway may fetch keys or metadata from, or null when it is one: an
 * absolute https URL (http only on a loopback host), without credentials or fragment.
 */
export function insecureUrlReason(text: string): string | null {
  if (!URL.canParse(text)) return 'must be an absolute URL';
  const url = new URL(text);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LoopbackHosts.has(url.hostname)))
    return 'must use https (http only on 127.0.0.1, [::1] or localhost)';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.hash !== '' || text.includes('#')) return 'must not have a fragment';
  return null;
}

/** A URL that passes `insecureUrlReason`, kept exactly as written (issuers are compared as strings). */
export const SecureUrl = z.string().superRefine((text, ctx) => {
  const reason = insecureUrlReason(text);
  if (reason !== null) ctx.addIssue({ code: 'custom', message: reason });
});

/** An issuer identifier (RFC 8414 section 2): a secure URL without a query. */
export const IssuerUrl = SecureUrl.refine((text) => !text.includes('?'), 'an issuer must not have a query');

/**
 * Signature algorithms a token may use: asymmetric only, so that knowing the verification key never lets
 * anyone sign. `none` and the HMAC family are not supported at all.
 */
export const JwtAlgorithm = z.enum([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
export type JwtAlgorithm = z.infer<typeof JwtAlgorithm>;

const ClaimName = z.string().min(1, 'a claim name must not be empty').max(256);

/**
 * Where a value sits in the claims: a top-level claim name (which may contain dots, such as
 * `https://example.com/roles`), or a path of names into nested objects (`["realm_access", "roles"]`).
 */
export const ClaimPath = z.union([ClaimName, z.array(ClaimName).min(1).max(8)], {
  error: 'a claim name, or an array of 1 to 8 claim names (a path into nested objects)',
});
export type ClaimPath = z.infer<typeof ClaimPath>;

/** A scope token (RFC 6749 section 3.3): printable ASCII without space, `"` or `\`. */
export const ScopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'printable ASCII without space, quote or backslash (max 128)');

const distinct = (items: readonly string[]) => new Set(items).size === items.length;

/** The tenant of an issuer's principals: one fixed tenant, or the value of a claim. */
export const JwtTenantSource = z.union(
  [z.strictObject({ fixed: TenantId }), z.strictObject({ claim: ClaimPath })],
  {
    error: 'tenant must be {"fixed": "<tenant id>"} or {"claim": "<claim name or path>"}',
  },
);
export type JwtTenantSource = z.infer<typeof JwtTenantSource>;

/** One trusted issuer. */
export const JwtIssuerConfig = z.strictObject({
  /** The issuer identifier, matched exactly against a token's `iss`. */
  issuer: IssuerUrl,
  /** Where its signing keys are; absent: found by OIDC discovery, then RFC 8414 metadata. */
  jwksUri: SecureUrl.optional(),
  /** The `aud` a token must name; absent: the gateway's resource URL. */
  audience: z.string().min(1).max(1024).optional(),
  algorithms: z
    .array(JwtAlgorithm)
    .min(1)
    .refine(distinct, 'algorithms must be distinct')
    .default(['RS256', 'ES256', 'EdDSA']),
  /** Clock skew allowed on exp, nbf and iat, in seconds. */
  clockToleranceS: z.number().int().min(0).max(300).default(30),
  tenant: JwtTenantSource,
  principalClaim: ClaimPath.default('sub'),
  /** Where the roles are (an array of names or one space-separated string); unknown names are dropped. */
  rolesClaim: ClaimPath.optional(),
  /** Roles of a principal whose token carries no roles claim (or when `rolesClaim` is not configured). */
  defaultRoles: z.array(Role).refine(distinct, 'defaultRoles must be distinct').default(['agent']),
  /** The roles a token of this issuer may confer; others are dropped. `platform-admin` only when listed. */
  grantableRoles: z
    .array(Role)
    .refine(distinct, 'grantableRoles must be distinct')
    .default(['admin', 'auditor', 'agent']),
  groupsClaim: ClaimPath.optional(),
  kind: PrincipalKind.default('user'),
  /** Scopes every token must hold; a token without them is refused with 403 insufficient_scope. */
  requiredScopes: z.array(ScopeToken).max(32).refine(distinct, 'requiredScopes must be distinct').optional(),
});
export type JwtIssuerConfig = z.infer<typeof JwtIssuerConfig>;
export type JwtIssuerInput = z.input<typeof JwtIssuerConfig>;

/** The trusted issuers: at most 32, each named once. */
export const JwtIssuerList = z
  .array(JwtIssuerConfig)
  .max(32)
  .refine((list) => distinct(list.map((i) => i.issuer)), 'each issuer may be configured only once');

/**
 * The issuers from the JSON text of an environment variable, for an env schema:
 * `MESHGATE_JWT_ISSUERS: JwtIssuersFromJson.optional()`.
 */
export const JwtIssuersFromJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of issuer objects' });
      return z.NEVER;
    }
  })
  .pipe(JwtIssuerList);
