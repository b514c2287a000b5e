/**
 * The gateway as an OAuth 2.1 protected resource (RFC 9728, as the MCP authorization spec requires): the
 * metadata document that tells a client which authorization servers issue tokens for it, and where that
 * document lives. The well-known URL inserts `/.well-known/oauth-protected-resource` between the host and
 * the path of the resource (section 3.1), so `https://gw.example/mcp` is described at
 * `https://gw.example/.well-known/oauth-protected-resource/mcp`. Pure: no I/O.
 */
import { z } from 'zod';
import { IssuerUrl, ScopeToken, SecureUrl } from './jwt-issuers';

const WellKnown = '/.well-known/oauth-protected-resource';

/** The metadata document (RFC 9728 section 2), as served and as a client reads it. */
export const ProtectedResourceMetadata = z.object({
  resource: z.string(),
  authorization_servers: z.array(z.string()).min(1),
  bearer_methods_supported: z.array(z.literal('header')),
  scopes_supported: z.array(z.string()).optional(),
  resource_name: z.string().optional(),
});
export type ProtectedResourceMetadata = z.infer<typeof ProtectedResourceMetadata>;

/** What the document says; checked when it is built, so a misconfiguration fails at start. */
export const ProtectedResourceOptions = z.strictObject({
  /** The resource identifier: the gateway's MCP URL, https, no fragment. */
  resource: SecureUrl,
  /** Issuer identifiers of the authorization servers (at least one, distinct). */
  authorizationServers: z
    .array(IssuerUrl)
    .min(1, 'at least one authorization server is required')
    .refine((list) => new Set(list).size === list.length, 'authorization servers must be distinct'),
  scopesSupported: z.array(ScopeToken).max(256).optional(),
  /** Shown to people by clients (RFC 9728 `resource_name`). */
  resourceName: z.string().min(1).max(256).optional(),
});
export type ProtectedResourceOptions = z.input<typeof ProtectedResourceOptions>;

/** The RFC 9728 metadata document of the resource; throws an Error when an option is invalid. */
export function protectedResourceMetadata(options: ProtectedResourceOptions): ProtectedResourceMetadata {
  const parsed = ProtectedResourceOptions.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(options)'}: ${i.message}`,
    );
    throw new Error(`invalid protected resource metadata: ${issues.join('; ')}`);
  }
  const { resource, authorizationServers, scopesSupported, resourceName } = parsed.data;
  return {
    resource,
    authorization_servers: [...authorizationServers],
    // Tokens are taken from the Authorization header only (MCP authorization, "token requirements").
    bearer_methods_supported: ['header'],
    ...(scopesSupported === undefined ? {} : { scopes_supported: [...scopesSupported] }),
    ...(resourceName === undefined ? {} : { resource_name: resourceName }),
  };
}

/** The resource's URL parts, or an Error saying why it is not a usable resource identifier. */
function resourceUrl(resource: string): URL {
  const parsed = SecureUrl.safeParse(resource);
  if (!parsed.success) throw new Error(`the resource URL ${parsed.error.issues[0]?.message}`);
  return new URL(resource);
}

/**
 * The path the metadata of `resource` is served at on the gateway's own origin, for route registration:
 * `/.well-known/oauth-protected-resource` followed by the resource's path (no trailing slash for `/`).
 */
export function metadataPathFor(resource: string): string {
  const { pathname } = resourceUrl(resource);
  return pathname === '/' ? WellKnown : `${WellKnown}${pathname}`;
}

/**
 * The well-known URL of the metadata of `resource` (RFC 9728 section 3.1): the suffix goes between the host
 * and the path, a lone terminating `/` after the host is dropped, and a query is kept.
 */
export function metadataUrlFor(resource: string): string {
  const url = resourceUrl(resource);
  return `${url.origin}${metadataPathFor(resource)}${url.search}`;
}
