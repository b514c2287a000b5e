/**
 * Who a request runs as and what it may do (issue 4): principals in tenants, their roles, and API keys.
 * An API key's durable record lives in KV `mg_api_keys` under its key id (schema version 1) and holds only
 * a SHA-256 digest of the key's secret. The admin API `/admin/v1/keys` (hosted by ingress, used by the CLI)
 * speaks the request and answer schemas below; no answer ever carries a digest, and only the answer that
 * issues a key carries its secret.
 */
import { z } from 'zod';
import { TenantId } from './audit';

/** What kind of party a principal is. */
export const PrincipalKind = z.enum(['user', 'agent', 'service']);
export type PrincipalKind = z.infer<typeof PrincipalKind>;

/**
 * Roles: `platform-admin` administers every tenant; `admin` manages its own tenant (keys, and everything
 * an auditor may do there); `auditor` reads its own tenant's audit trail; `agent` uses MCP tools.
 */
export const Role = z.enum(['platform-admin', 'admin', 'auditor', 'agent']);
export type Role = z.infer<typeof Role>;

/**
 * A principal id: ASCII letters, digits and `.`, `_`, `@`, `-` (e-mail-like names fit), so that no
 * look-alike, invisible or direction-changing character can make two ids read the same.
 */
export const PrincipalId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/,
    'ASCII letters, digits, ".", "_", "@" and "-", starting with a letter or digit (max 128)',
  );
export type PrincipalId = z.infer<typeof PrincipalId>;

/** A group name, under the same rules as a principal id (max 64). */
export const GroupName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
    'ASCII letters, digits, ".", "_", "@" and "-", starting with a letter or digit (max 64)',
  );
export type GroupName = z.infer<typeof GroupName>;

const unique = (items: readonly string[]) => new Set(items).size === items.length;

/** One or more distinct roles. */
export const Roles = z.array(Role).min(1).max(Role.options.length).refine(unique, 'roles must be distinct');
/** At most 32 distinct groups. */
export const Groups = z.array(GroupName).max(32).refine(unique, 'groups must be distinct');

/** Who a request runs as, once authenticated. */
export const Principal = z.object({
  tenant: TenantId,
  id: PrincipalId,
  kind: PrincipalKind,
  roles: z.array(Role),
  groups: z.array(GroupName),
});
export type Principal = z.infer<typeof Principal>;

/** How the audit trail names a principal: `<tenant>/<principal id>`. */
export function principalRef(p: Pick<Principal, 'tenant' | 'id'>): string {
  return `${p.tenant}/${p.id}`;
}

/** The id of an API key: 16 lower-case hex digits, the KV key of its record; not a secret. */
export const ApiKeyId = z.string().regex(/^[0-9a-f]{16}$/, '16 lower-case hex digits');
export type ApiKeyId = z.infer<typeof ApiKeyId>;

/** Free text shown to people: no control, invisible or direction-changing characters (terminal safety). */
export const KeyDescription = z
  .string()
  .min(1)
  .max(256)
  .refine(
    (text) => !/[\p{Cc}\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/u.test(text),
    'no control, invisible or direction-changing characters',
  );

const Instant = z.iso.datetime({ offset: true });

/** The durable record of one API key (KV `mg_api_keys`, key = keyId). */
export const ApiKeyRecord = z.object({
  v: z.literal(1),
  keyId: ApiKeyId,
  tenant: TenantId,
  /** The id of the principal the key authenticates, in `tenant`. */
  principal: PrincipalId,
  kind: PrincipalKind,
  roles: Roles,
  groups: Groups,
  description: KeyDescription.optional(),
  createdAt: Instant,
  expiresAt: Instant.optional(),
  /** From this instant on the key is refused; later than now while a rotated key's grace period runs. */
  revokedAt: Instant.optional(),
  /** The key this one replaced by rotation. */
  rotatedFrom: ApiKeyId.optional(),
  /** Hex SHA-256 of the key's secret. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/** An API key as the admin API shows it: the record without its digest. */
export const ApiKeyView = ApiKeyRecord.omit({ hash: true });
export type ApiKeyView = z.infer<typeof ApiKeyView>;

/** Most days a key may live. */
export const MaxKeyDays = 3_650;
const Days = z.number().int().min(1).max(MaxKeyDays);

/** `POST /admin/v1/keys`: the key to issue. Strict: an unknown field is refused. */
export const CreateApiKeyRequest = z.strictObject({
  tenant: TenantId,
  principal: PrincipalId,
  kind: PrincipalKind,
  roles: Roles,
  groups: Groups.default([]),
  /** Omitted: the key does not expire. */
  expiresInDays: Days.optional(),
  description: KeyDescription.optional(),
});
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;
export type CreateApiKeyInput = z.input<typeof CreateApiKeyRequest>;

/** Longest grace period of a rotated key: seven days. */
export const MaxGraceSeconds = 7 * 86_400;

/** `POST /admin/v1/keys/:keyId/rotate` (body optional). */
export const RotateApiKeyRequest = z.strictObject({
  /** How long the old key keeps working; 0 (default): it is revoked at once. */
  graceSeconds: z.number().int().min(0).max(MaxGraceSeconds).optional(),
  /** Lifetime of the new key; omitted: as long as the old key's was (or unlimited, like it). */
  expiresInDays: Days.optional(),
});
export type RotateApiKeyRequest = z.infer<typeof RotateApiKeyRequest>;

/** The answer that issues a key (create, rotate): its secret, shown this once, and its record. */
export const IssuedApiKey = z.object({
  apiKey: z.string(),
  key: ApiKeyView,
  /** After a rotation: the replaced key, with the instant it stops working. */
  replaced: ApiKeyView.optional(),
});
export type IssuedApiKey = z.infer<typeof IssuedApiKey>;

/** `GET /admin/v1/keys`: the keys of one tenant, oldest first. */
export const ApiKeyList = z.object({ tenant: TenantId, keys: z.array(ApiKeyView) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** `DELETE /admin/v1/keys/:keyId`: the revoked key. */
export const RevokedApiKey = z.object({ key: ApiKeyView });
export type RevokedApiKey = z.infer<typeof RevokedApiKey>;
