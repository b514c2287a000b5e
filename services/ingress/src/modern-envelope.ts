/**
 * Which era a POSTed message belongs to, and the checks the 2026-07-28 spec puts on a stateless request
 * before it is served, in the order an SDK v2 server applies them: body-primary era classification with
 * the MCP-Protocol-Version header as a cross-check (-32020 on disagreement), the `_meta` envelope (-32602,
 * HTTP 400), the served revision (-32022, HTTP 400, with the supported versions), the standard headers
 * `MCP-Protocol-Version` / `Mcp-Method` / `Mcp-Name` (-32020, HTTP 400), the method registry (-32601,
 * HTTP 404), then per-method params (-32602 in-band, HTTP 200). Pure: no I/O.
 */
import { z } from 'zod';
import {
  ClientInfo,
  ErrorCodes,
  errorResponse,
  type JsonRpcError,
  type JsonRpcId,
} from '@meshgate/contracts';
import { LoggingLevels } from '@meshgate/mcp';
import { ModernVersions, ServedVersions, isModernVersion } from './protocol';

/** Reserved `_meta` keys of the 2026-07-28 revision. */
export const MetaKeys = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** JSON-RPC codes the 2026-07-28 revision added. */
export const ModernErrorCodes = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

/** The request methods of the 2026-07-28 revision; any other method is -32601 (HTTP 404). */
export const ModernMethods = [
  'tools/call',
  'tools/list',
  'prompts/get',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
  'server/discover',
  'subscriptions/listen',
] as const;
export type ModernMethod = (typeof ModernMethods)[number];

/** The methods that may answer `input_required` (multi round-trip requests). */
export const RoundTripMethods: readonly string[] = ['tools/call', 'prompts/get', 'resources/read'];

/** The header values the era checks read (first value of each, untrimmed). */
export interface ModernHeaders {
  protocolVersion: string | undefined;
  method: string | undefined;
  name: string | undefined;
}

const JsonObject = z.record(z.string(), z.unknown());

/** Client capabilities as the envelope declares them: known members must be objects; bounded in size. */
export const ClientCapabilities = z
  .looseObject({
    experimental: JsonObject.optional(),
    sampling: JsonObject.optional(),
    elicitation: JsonObject.optional(),
    roots: JsonObject.optional(),
    extensions: JsonObject.optional(),
  })
  .refine((caps) => JSON.stringify(caps).length <= 16_384, 'larger than 16 KiB');
export type ClientCapabilities = z.infer<typeof ClientCapabilities>;

/** The per-request `_meta` envelope every 2026-07-28 request carries. */
export const Envelope = z.looseObject({
  [MetaKeys.protocolVersion]: z.string().min(1).max(32),
  [MetaKeys.clientCapabilities]: ClientCapabilities,
  [MetaKeys.clientInfo]: ClientInfo.optional(),
  [MetaKeys.logLevel]: z.enum(LoggingLevels).optional(),
  progressToken: z.union([z.string().max(256), z.number().int()]).optional(),
});
export type Envelope = z.infer<typeof Envelope>;

/** Where a POSTed message goes: the session eras, the stateless era, or a refusal. */
export type EraRoute =
  | { era: 'legacy' }
  | { era: 'modern'; version: string; envelope: Envelope | undefined }
  | { era: 'reject'; status: number; error: JsonRpcError };

/** The message fields the classification reads. */
export interface Routed {
  kind: 'request' | 'notification' | 'response';
  id: JsonRpcId | null;
  method: string | undefined;
  params: Record<string, unknown> | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `_meta` object of `params`, when it has one. */
export function metaOf(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const meta = params?.['_meta'];
  return isObject(meta) ? meta : undefined;
}

/** Strips RFC 9110 optional whitespace around a header value. */
function ows(value: string | undefined): string | undefined {
  return value?.replace(/^[ \t]+|[ \t]+$/g, '');
}

const reject = (status: number, id: JsonRpcId | null, code: number, message: string, data?: unknown) => ({
  era: 'reject' as const,
  status,
  error: errorResponse(id, code, message, data),
});

/** A -32020 HeaderMismatch error naming what disagrees (always answered with HTTP 400). */
function mismatchError(id: JsonRpcId | null, header: string, body: string): JsonRpcError {
  return errorResponse(
    id,
    ModernErrorCodes.HeaderMismatch,
    `Bad Request: the request headers and body disagree: ${body}`,
    { mismatch: { header: header.slice(0, 256), body } },
  );
}

function mismatch(id: JsonRpcId | null, header: string, body: string): EraRoute {
  return { era: 'reject', status: 400, error: mismatchError(id, header, body) };
}

/** The first problem of an envelope, as `key: problem`; undefined when it is valid. */
function envelopeIssue(meta: Record<string, unknown>): { key: string; problem: string } | undefined {
  for (const key of [MetaKeys.protocolVersion, MetaKeys.clientCapabilities])
    if (!(key in meta)) return { key, problem: 'missing' };
  const parsed = Envelope.safeParse(meta);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  return { key: issue?.path.map(String).join('.') || '_meta', problem: issue?.message ?? 'invalid' };
}

/**
 * The era of a POSTed message. Body first: a `_meta` protocol-version claim makes it stateless (then a
 * malformed envelope, or a header naming another version or method, is refused); a modern
 * MCP-Protocol-Version header without the claim is refused (-32602); anything else belongs to the session
 * eras. `initialize` stays a session request unless it carries a valid modern envelope (then it is a method
 * the stateless era does not have).
 */
export function routeEra(h: ModernHeaders, m: Routed): EraRoute {
  if (m.kind === 'response' || m.method === undefined) return { era: 'legacy' };
  const headerVersion = ows(h.protocolVersion);
  const headerMethod = ows(h.method);
  const headerModern = headerVersion !== undefined && isModernVersion(headerVersion);
  const meta = metaOf(m.params);
  const claimed = meta !== undefined && MetaKeys.protocolVersion in meta;
  const id = m.id;
  if (m.kind === 'request' && m.method === 'initialize' && !(claimed && !envelopeIssue(meta))) {
    if (headerModern)
      return mismatch(
        id,
        headerVersion,
        'an initialize request (session handshake) was sent with a modern MCP-Protocol-Version header',
      );
    return { era: 'legacy' };
  }
  if (claimed) {
    const issue = m.kind === 'request' ? envelopeIssue(meta) : undefined;
    if (issue)
      return reject(
        400,
        id,
        ErrorCodes.InvalidParams,
        `Invalid _meta envelope for protocol revision 2026-07-28: ${issue.key}: ${issue.problem}`,
        { envelope: issue },
      );
    const version = meta[MetaKeys.protocolVersion];
    if (typeof version !== 'string' || version.length > 32)
      return reject(
        400,
        id,
        ErrorCodes.InvalidParams,
        `Invalid _meta envelope for protocol revision 2026-07-28: ${MetaKeys.protocolVersion}: expected a version string`,
      );
    if (headerVersion !== undefined && headerVersion !== version)
      return mismatch(
        id,
        headerVersion,
        `the body envelope names protocol version ${version} but the MCP-Protocol-Version header names ${headerVersion.slice(0, 40)}`,
      );
    if (headerMethod !== undefined && headerMethod !== m.method)
      return mismatch(
        id,
        headerMethod,
        `the body names method ${m.method} but the Mcp-Method header names ${headerMethod.slice(0, 100)}`,
      );
    return { era: 'modern', version, envelope: m.kind === 'request' ? Envelope.parse(meta) : undefined };
  }
  if (!headerModern) return { era: 'legacy' };
  if (m.kind === 'notification') {
    if (headerMethod !== undefined && headerMethod !== m.method)
      return mismatch(
        id,
        headerMethod,
        `the notification names method ${m.method} but the Mcp-Method header names ${headerMethod.slice(0, 100)}`,
      );
    return { era: 'modern', version: headerVersion, envelope: undefined };
  }
  const missing =
    meta === undefined
      ? ['_meta']
      : [MetaKeys.protocolVersion, MetaKeys.clientCapabilities].filter((k) => !(k in meta));
  return reject(
    400,
    id,
    ErrorCodes.InvalidParams,
    `Invalid params: the MCP-Protocol-Version header names protocol revision ${headerVersion}, but the request is missing the required per-request envelope key(s): ${missing.join(', ')}`,
    { envelope: { missing } },
  );
}

const SENTINEL = /^=\?base64\?(.*)\?=$/s;
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A header value with the `=?base64?…?=` sentinel decoded (UTF-8); undefined when the sentinel is malformed. */
export function decodeHeaderValue(value: string): string | undefined {
  const m = SENTINEL.exec(value);
  if (!m) return value;
  const b64 = m[1]!;
  if (!CANONICAL_BASE64.test(b64)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/** The body field `Mcp-Name` mirrors for a method, if any. */
export function nameField(method: string): 'name' | 'uri' | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return 'name';
  if (method === 'resources/read') return 'uri';
  return undefined;
}

/** Result of the checks of a stateless request after its era was decided. */
export type ModernCheck =
  { ok: true; method: ModernMethod } | { ok: false; status: number; error: JsonRpcError };

/**
 * The checks of a stateless request after classification, in the SDK's order: a served revision (-32022),
 * the standard headers (-32020), then a known method (-32601, HTTP 404).
 */
export function checkModernRequest(
  h: ModernHeaders,
  version: string,
  id: JsonRpcId,
  method: string,
  params: Record<string, unknown> | undefined,
): ModernCheck {
  const fail = (status: number, code: number, message: string, data?: unknown): ModernCheck => ({
    ok: false,
    status,
    error: errorResponse(id, code, message, data),
  });
  if (!(ModernVersions as readonly string[]).includes(version))
    return fail(
      400,
      ModernErrorCodes.UnsupportedProtocolVersion,
      `Unsupported protocol version: ${version}`,
      { supported: [...ServedVersions], requested: version },
    );
  const headerFail = (body: string, header = '(missing)'): ModernCheck => ({
    ok: false,
    status: 400,
    error: mismatchError(id, header, body),
  });
  if (h.protocolVersion === undefined)
    return headerFail(
      `the body envelope names protocol version ${version} but the required MCP-Protocol-Version header is absent`,
    );
  if (h.method === undefined)
    return headerFail(`the body names method ${method} but the required Mcp-Method header is absent`);
  const field = nameField(method);
  const bodyValue = field === undefined ? undefined : params?.[field];
  if (field !== undefined && typeof bodyValue === 'string') {
    const header = ows(h.name);
    if (header === undefined)
      return headerFail(
        `the body carries params.${field}="${bodyValue.slice(0, 200)}" but the required Mcp-Name header is absent`,
      );
    const decoded = decodeHeaderValue(header);
    if (decoded === undefined)
      return headerFail('the Mcp-Name header carries an invalid Base64 sentinel value', header);
    if (decoded !== bodyValue)
      return headerFail(
        `the body carries params.${field}="${bodyValue.slice(0, 200)}" but the Mcp-Name header names "${decoded.slice(0, 200)}"`,
        header,
      );
  }
  if (!(ModernMethods as readonly string[]).includes(method))
    return fail(
      404,
      ErrorCodes.MethodNotFound,
      `Method not found: ${method.slice(0, 100)} is not a method of protocol revision ${version}`,
    );
  return { ok: true, method: method as ModernMethod };
}

/** The notification filter of `subscriptions/listen`. */
export const SubscriptionFilter = z.object({
  toolsListChanged: z.boolean().optional(),
  promptsListChanged: z.boolean().optional(),
  resourcesListChanged: z.boolean().optional(),
  resourceSubscriptions: z.array(z.string().min(1).max(2048)).max(256).optional(),
});
export type SubscriptionFilter = z.infer<typeof SubscriptionFilter>;

/** The multi round-trip fields of a retried request. */
const RetryFields = {
  inputResponses: z.record(z.string().max(256), JsonObject).optional(),
  requestState: z.string().min(1).max(16_384).optional(),
};

const Cursor = { cursor: z.string().max(4096).optional() };

/** Params of each stateless method (unknown members pass: they travel upstream unchanged). */
const ParamsByMethod: Record<ModernMethod, z.ZodType> = {
  'tools/call': z.looseObject({
    name: z.string().min(1).max(512),
    arguments: JsonObject.optional(),
    ...RetryFields,
  }),
  'prompts/get': z.looseObject({
    name: z.string().min(1).max(512),
    arguments: z.record(z.string(), z.string()).optional(),
    ...RetryFields,
  }),
  'resources/read': z.looseObject({ uri: z.string().min(1).max(8192), ...RetryFields }),
  'tools/list': z.looseObject(Cursor),
  'prompts/list': z.looseObject(Cursor),
  'resources/list': z.looseObject(Cursor),
  'resources/templates/list': z.looseObject(Cursor),
  'completion/complete': z.looseObject({
    ref: z.looseObject({ type: z.string() }),
    argument: z.looseObject({ name: z.string(), value: z.string() }),
  }),
  'server/discover': z.looseObject({}),
  'subscriptions/listen': z.looseObject({ notifications: SubscriptionFilter }),
};

/** Null when `params` suit `method`, else the -32602 error (answered in-band, HTTP 200). */
export function checkModernParams(
  id: JsonRpcId,
  method: ModernMethod,
  params: Record<string, unknown> | undefined,
): JsonRpcError | null {
  const parsed = ParamsByMethod[method].safeParse(params ?? {});
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  const where = issue ? `${issue.path.map(String).join('.') || 'params'}: ${issue.message}` : 'params';
  return errorResponse(id, ErrorCodes.InvalidParams, `Invalid params: ${where}`);
}
