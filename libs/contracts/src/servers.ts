/**
 * Upstream server definitions: what the registry stores and the router connects to. Names are restricted
 * so that they can prefix tool names (`<server>__<tool>`), resource URI schemes (`<server>+file:`) and
 * subject tokens without any escaping. Credentials may be references (`{env}`, `{file}`) that the router
 * resolves when it connects, so secrets need not be stored in the registry in clear.
 */
import { z } from 'zod';

export const ServerName = z
  .string()
  .regex(
    /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/,
    'must start with a letter and hold only letters, digits and "-" (max 63)',
  );
export type ServerName = z.infer<typeof ServerName>;

const Common = {
  name: ServerName,
  description: z.string().max(2000).optional(),
  enabled: z.boolean().default(true),
  /** One upstream connection per agent session instead of one shared by all sessions. */
  stateful: z.boolean().default(false),
  /** Deadline for one request to this upstream. */
  timeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
  /**
   * Most requests in flight to this upstream from all router replicas together (their shared slots live in
   * the limits KV bucket); without it, {@link DefaultMaxConcurrent} per router replica.
   */
  maxConcurrent: z.number().int().min(1).max(10_000).optional(),
  /** Most requests waiting for a slot on one router replica, first come first served; more are shed ({@link DefaultMaxQueue}). */
  maxQueue: z.number().int().min(0).max(100_000).optional(),
  /** Longest wait for a free slot; without it a request waits until its own deadline. */
  queueTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
};

/** Requests in flight to one upstream per router replica when the definition sets no `maxConcurrent`. */
export const DefaultMaxConcurrent = 64;
/** Requests waiting for one upstream per router replica when the definition sets no `maxQueue`. */
export const DefaultMaxQueue = 256;

/**
 * A secret in a definition: the value itself, the name of an environment variable of the router, or the
 * absolute path of a file the router reads (trimmed). References are resolved at every (re)connect, so a
 * rotated file is picked up by the next connection.
 */
export const SecretValue = z.union([
  z.string().max(8192),
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'invalid environment variable name') }),
  z.strictObject({
    file: z
      .string()
      .max(4096)
      .regex(/^(\/|[A-Za-z]:[\\/])/, 'must be an absolute path'),
  }),
]);
export type SecretValue = z.infer<typeof SecretValue>;

const HeaderName = z.string().regex(/^[A-Za-z0-9-]+$/, 'invalid header name');
const HeaderMap = z.record(HeaderName, z.string().max(8192));

export const StdioServer = z.object({
  ...Common,
  transport: z.literal('stdio'),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Variables of the child process; references are resolved at every spawn. */
  env: z.record(z.string(), SecretValue).default({}),
  cwd: z.string().optional(),
});
export type StdioServer = z.infer<typeof StdioServer>;

/** Static credential headers (for example `authorization` or `x-api-key`), resolved at every connect. */
export const HeaderAuth = z.strictObject({
  type: z.literal('headers'),
  headers: z.record(HeaderName, SecretValue),
});
export type HeaderAuth = z.infer<typeof HeaderAuth>;

/** OAuth 2.0 client credentials (RFC 6749 4.4, client_secret_basic); the token is sent as a bearer. */
export const OAuthClientCredentials = z.strictObject({
  type: z.literal('oauth-client-credentials'),
  tokenUrl: z.url({ protocol: /^https?$/ }),
  clientId: z.string().min(1).max(1024),
  clientSecret: SecretValue,
  scope: z.string().min(1).max(4096).optional(),
  /** Requested audience (an extension many authorization servers accept). */
  audience: z.string().min(1).max(2048).optional(),
  /** RFC 8707 resource indicator: the upstream the token is meant for. */
  resource: z.url().optional(),
});
export type OAuthClientCredentials = z.infer<typeof OAuthClientCredentials>;

/**
 * OAuth 2.0 token exchange (RFC 8693) per principal: for every call the router exchanges the agent's own
 * access token (the call's subject token) at `tokenUrl`, authenticating with client_secret_basic, and sends
 * the token it gets as a bearer. The agent's token itself never reaches the upstream. Each session gets its
 * own upstream connection; a principal authenticated by API key has no subject token and is refused.
 */
export const TokenExchangeAuth = z.strictObject({
  type: z.literal('token-exchange'),
  tokenUrl: z.url({ protocol: /^https?$/ }),
  clientId: z.string().min(1).max(1024),
  clientSecret: SecretValue,
  /** How the subject token is described to the authorization server (`urn:ietf:params:oauth:token-type:*`). */
  subjectTokenType: z.enum(['access_token', 'jwt']).default('access_token'),
  audience: z.string().min(1).max(2048).optional(),
  /** RFC 8707 resource indicator: the upstream the token is meant for. */
  resource: z.url().optional(),
  scope: z.string().min(1).max(4096).optional(),
});
export type TokenExchangeAuth = z.infer<typeof TokenExchangeAuth>;

/**
 * The principal's own upstream token, stored encrypted (libs/auth upstream token store) and sent as
 * `Authorization: Bearer <token>`, or as the bare token in `header` when another header is named. Each
 * session gets its own upstream connection.
 */
export const PrincipalTokenAuth = z.strictObject({
  type: z.literal('principal-token'),
  header: HeaderName.optional(),
});
export type PrincipalTokenAuth = z.infer<typeof PrincipalTokenAuth>;

/** How the router authenticates to an HTTP upstream (never with the agent's own credentials). */
export const UpstreamAuth = z.discriminatedUnion('type', [
  HeaderAuth,
  OAuthClientCredentials,
  TokenExchangeAuth,
  PrincipalTokenAuth,
]);
export type UpstreamAuth = z.infer<typeof UpstreamAuth>;

export const HttpServer = z.object({
  ...Common,
  /**
   * How the router reaches `url`: `streamable-http` (a 2026-07-28 stateless server or a 2025 session, told
   * apart by a server/discover probe), `sse` (the 2024-11-05 HTTP+SSE transport, no probe), or `auto`
   * (the probe, then initialize, then HTTP+SSE when initialize is answered 400, 404 or 405).
   */
  transport: z.enum(['streamable-http', 'sse', 'auto']),
  url: z.url({ protocol: /^https?$/ }),
  headers: HeaderMap.default({}),
  auth: UpstreamAuth.optional(),
});
export type HttpServer = z.infer<typeof HttpServer>;

export const ServerDefinition = z.discriminatedUnion('transport', [StdioServer, HttpServer]);
export type ServerDefinition = z.infer<typeof ServerDefinition>;
/** A definition as written by a user, before defaults apply. */
export type ServerDefinitionInput = z.input<typeof ServerDefinition>;

/** The durable registry record of one server (schema-versioned). */
export const ServerRecord = z.object({
  v: z.literal(1),
  definition: ServerDefinition,
  revision: z.number().int().nonnegative(),
  updatedAt: z.string(),
});
export type ServerRecord = z.infer<typeof ServerRecord>;

/** Published on every change to the catalogue. */
export const RegistryChanged = z.object({
  v: z.literal(1),
  op: z.enum(['put', 'delete']),
  name: ServerName,
  revision: z.number().int().nonnegative(),
});
export type RegistryChanged = z.infer<typeof RegistryChanged>;

export const RegistryListReply = z.object({ v: z.literal(1), servers: z.array(ServerRecord) });
export type RegistryListReply = z.infer<typeof RegistryListReply>;
