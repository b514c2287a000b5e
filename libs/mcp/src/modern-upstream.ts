/**
 * The 2026-07-28 ("modern") protocol as the gateway speaks it to an upstream, and what it turns the
 * upstream's answers into for agents of the session eras. A modern upstream has no initialize and no
 * session: every request carries a `_meta` envelope (protocol version, client capabilities, client info,
 * optionally the log level) and, over HTTP, the headers `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`;
 * its identity and capabilities come from `server/discover`; its results carry `resultType` (and `ttlMs` /
 * `cacheScope` when cacheable), and it asks for client input with `input_required` results instead of
 * server-to-client requests. Pure: inputs are never modified.
 */
import { z } from 'zod';
import { ErrorCodes, type JsonRpcErrorObject } from '@meshgate/contracts';
import { GatewayClientCapabilities } from './capabilities';

/** The stateless protocol revision. */
export const ModernProtocolVersion = '2026-07-28';

/** Names and codes of the 2026-07-28 wire the gateway uses towards upstreams. */
export const ModernWire = {
  protocolVersionKey: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilitiesKey: 'io.modelcontextprotocol/clientCapabilities',
  clientInfoKey: 'io.modelcontextprotocol/clientInfo',
  serverInfoKey: 'io.modelcontextprotocol/serverInfo',
  logLevelKey: 'io.modelcontextprotocol/logLevel',
  subscriptionIdKey: 'io.modelcontextprotocol/subscriptionId',
  protocolVersionHeader: 'mcp-protocol-version',
  methodHeader: 'mcp-method',
  nameHeader: 'mcp-name',
  headerMismatchCode: -32020,
  missingCapabilityCode: -32021,
  unsupportedVersionCode: -32022,
} as const;

/** The requests whose result may be `input_required` (multi round-trip requests). */
export const InputRequiredMethods: readonly string[] = ['tools/call', 'prompts/get', 'resources/read'];

/** The client input requests an `input_required` result may embed. */
export const InputRequestMethods = ['elicitation/create', 'sampling/createMessage', 'roots/list'] as const;

/** Which params field the `Mcp-Name` header mirrors, per method (SEP-2243). */
const NameSource: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the gateway declares about its client side in the envelope of one upstream request. */
export interface UpstreamEnvelope {
  clientCapabilities: Json;
  clientInfo: { name: string; version: string };
  /** The log level set for the connection; without it the upstream sends no log messages. */
  logLevel?: string | undefined;
}

/** `params` with the envelope in `_meta` (keys the caller put in `_meta`, such as progressToken, kept). */
export function withUpstreamEnvelope(params: Json | undefined, envelope: UpstreamEnvelope): Json {
  const meta = isObject(params?.['_meta']) ? params['_meta'] : {};
  return {
    ...params,
    _meta: {
      ...meta,
      [ModernWire.protocolVersionKey]: ModernProtocolVersion,
      [ModernWire.clientCapabilitiesKey]: envelope.clientCapabilities,
      [ModernWire.clientInfoKey]: envelope.clientInfo,
      ...(envelope.logLevel !== undefined ? { [ModernWire.logLevelKey]: envelope.logLevel } : {}),
    },
  };
}

/**
 * The client capabilities declared upstream for a request: the agent's own, limited to what the gateway
 * relays (sampling, elicitation, roots), so a modern upstream never asks for input the agent cannot give;
 * the gateway's own when no agent is involved.
 */
export function upstreamCapabilities(agent: Json | undefined): Json {
  const relayed = Object.keys(GatewayClientCapabilities);
  const source = agent ?? GatewayClientCapabilities;
  const out: Json = {};
  for (const key of relayed) {
    const value = source[key];
    if (value === undefined) continue;
    // 2026-07-28 has no roots/list_changed.
    out[key] = key === 'roots' ? {} : value;
  }
  return out;
}

/** A header value as SEP-2243 encodes it: plain when it is safe ASCII, else `=?base64?<utf-8 base64>?=`. */
export function encodeHeaderValue(value: string): string {
  const plain =
    value.length > 0 &&
    value === value.trim() &&
    !(value.startsWith('=?base64?') && value.endsWith('?=')) &&
    /^[\t\x20-\x7e]*$/.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/**
 * The HTTP headers a request must carry to a modern upstream, derived from the message itself; undefined
 * for a message without the envelope (a session-era exchange gets none of them).
 */
export function modernRequestHeaders(message: object): Record<string, string> | undefined {
  const m = message as { method?: unknown; params?: unknown };
  const params = isObject(m.params) ? m.params : undefined;
  const meta = isObject(params?.['_meta']) ? params['_meta'] : undefined;
  const version = meta?.[ModernWire.protocolVersionKey];
  if (typeof version !== 'string' || typeof m.method !== 'string' || !('id' in message)) return undefined;
  const headers: Record<string, string> = {
    [ModernWire.protocolVersionHeader]: version,
    [ModernWire.methodHeader]: m.method,
  };
  const field = Object.hasOwn(NameSource, m.method) ? NameSource[m.method] : undefined;
  const name = field === undefined ? undefined : params?.[field];
  if (typeof name === 'string') headers[ModernWire.nameHeader] = encodeHeaderValue(name);
  return headers;
}

/** The result of server/discover. */
export const DiscoverResult = z.looseObject({
  supportedVersions: z.array(z.string()).min(1),
  capabilities: z.record(z.string(), z.unknown()),
  instructions: z.string().optional(),
  _meta: z.record(z.string(), z.unknown()).optional(),
});
export type DiscoverResult = z.infer<typeof DiscoverResult>;

/** The discover result, when `result` is one offering the modern revision the gateway speaks. */
export function modernDiscoverResult(result: unknown): DiscoverResult | undefined {
  const parsed = DiscoverResult.safeParse(result);
  if (!parsed.success || !parsed.data.supportedVersions.includes(ModernProtocolVersion)) return undefined;
  return parsed.data;
}

/**
 * The InitializeResult the router keeps for a modern upstream, built from its discover result: the
 * modern version, its capabilities and instructions, and its serverInfo (from the result's `_meta`, else
 * `fallbackName`). The version an agent sees is set by whoever answers its initialize.
 */
export function discoverAsInitializeResult(discover: DiscoverResult, fallbackName: string): Json {
  const info = discover._meta?.[ModernWire.serverInfoKey];
  const serverInfo =
    isObject(info) && typeof info['name'] === 'string' && typeof info['version'] === 'string'
      ? info
      : { name: fallbackName, version: 'unknown' };
  return {
    protocolVersion: ModernProtocolVersion,
    capabilities: discover.capabilities,
    serverInfo,
    ...(discover.instructions !== undefined ? { instructions: discover.instructions } : {}),
  };
}

/** One embedded request of an `input_required` result. */
export const InputRequest = z.looseObject({
  method: z.enum(InputRequestMethods),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type InputRequest = z.infer<typeof InputRequest>;

/** An `input_required` result: the input the upstream needs and the state to echo on the retry. */
export const InputRequiredResult = z.looseObject({
  resultType: z.literal('input_required'),
  inputRequests: z.record(z.string(), InputRequest).optional(),
  requestState: z.string().optional(),
});
export type InputRequiredResult = z.infer<typeof InputRequiredResult>;

/**
 * The embedded requests (key and request, in order) and the state of an `input_required` result; undefined
 * when it is malformed. Keys are read as the upstream sent them, so a key such as `__proto__` stays a key.
 */
export function inputRequiredOf(
  result: Json,
): { requests: [string, InputRequest][]; requestState: string | undefined } | undefined {
  const parsed = InputRequiredResult.safeParse(result);
  const raw = result['inputRequests'];
  if (!parsed.success || (raw !== undefined && !isObject(raw))) return undefined;
  const requests: [string, InputRequest][] = [];
  for (const [key, value] of Object.entries(raw ?? {})) {
    const request = InputRequest.safeParse(value);
    if (!request.success) return undefined;
    requests.push([key, request.data]);
  }
  return { requests, requestState: parsed.data.requestState };
}

/** True when `result` says input is required (whether or not it is well formed). */
export function isInputRequired(result: Json): boolean {
  return result['resultType'] === 'input_required';
}

/**
 * The params of the retry of a multi round-trip request: the original params with the collected
 * `inputResponses` and the echoed `requestState` (those of an earlier round replaced).
 */
export function retryParams(
  params: Json | undefined,
  responses: Json,
  requestState: string | undefined,
): Json {
  const out: Json = { ...params, inputResponses: responses };
  if (requestState !== undefined) out['requestState'] = requestState;
  else delete out['requestState'];
  return out;
}

/**
 * An embedded input request as a session-era agent receives it, as a server-to-client request's params:
 * a URL-mode elicitation gets the `elicitationId` 2025-11-25 requires (2026-07-28 dropped it).
 */
export function inputRequestParams(request: InputRequest, elicitationId: string): Json {
  const params = request.params ?? {};
  if (
    request.method === 'elicitation/create' &&
    params['mode'] === 'url' &&
    params['elicitationId'] === undefined
  )
    return { ...params, elicitationId };
  return params;
}

/**
 * A modern upstream's result as an agent of `agentVersion` reads it: a session-era agent does not get
 * `resultType`, `ttlMs`, `cacheScope` or the serverInfo `_meta` stamp; a modern agent gets it untouched.
 */
export function resultFromModernUpstream(result: Json, agentVersion: string): Json {
  if (agentVersion >= ModernProtocolVersion) return result;
  const { resultType: _type, ttlMs: _ttl, cacheScope: _scope, ...out } = result;
  const meta = out['_meta'];
  if (isObject(meta) && ModernWire.serverInfoKey in meta) {
    const { [ModernWire.serverInfoKey]: _info, ...rest } = meta;
    if (Object.keys(rest).length > 0) out['_meta'] = rest;
    else delete out['_meta'];
  }
  return out;
}

/**
 * A modern upstream's error as an agent of `agentVersion` reads it. Codes of the stateless revision mean
 * nothing to a session-era agent: a missing client capability (-32021) becomes invalid params naming the
 * capabilities (the agent's session does not declare them); a header mismatch or unsupported version
 * (-32020, -32022) is the gateway's fault towards the upstream, an internal error. A modern agent gets the
 * error untouched.
 */
export function errorFromModernUpstream(error: JsonRpcErrorObject, agentVersion: string): JsonRpcErrorObject {
  if (agentVersion >= ModernProtocolVersion) return error;
  if (error.code === ModernWire.missingCapabilityCode) {
    const required = isObject(error.data) ? error.data['requiredCapabilities'] : undefined;
    const names = isObject(required) ? Object.keys(required) : [];
    return {
      ...error,
      code: ErrorCodes.InvalidParams,
      message:
        names.length > 0
          ? `the upstream needs the client's ${names.join(', ')} capability, which this session did not declare`
          : `the upstream needs a client capability this session did not declare: ${error.message}`,
    };
  }
  if (error.code === ModernWire.headerMismatchCode || error.code === ModernWire.unsupportedVersionCode)
    return {
      ...error,
      code: ErrorCodes.InternalError,
      message: `upstream refused the request: ${error.message}`,
    };
  return error;
}
