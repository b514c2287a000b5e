/**
 * Upstream server definitions: what the registry stores and the router connects to. Names are restricted
 * so that they can prefix tool names (`<server>__<tool>`), resource URI schemes (`<server>+file:`) and
 * subject tokens without any escaping.
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
};

const HeaderMap = z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'invalid header name'), z.string().max(8192));

export const StdioServer = z.object({
  ...Common,
  transport: z.literal('stdio'),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().optional(),
});
export type StdioServer = z.infer<typeof StdioServer>;

export const HttpServer = z.object({
  ...Common,
  transport: z.enum(['streamable-http', 'sse']),
  url: z.url({ protocol: /^https?$/ }),
  headers: HeaderMap.default({}),
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
