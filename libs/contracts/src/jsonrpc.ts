/**
 * JSON-RPC 2.0 envelopes as MCP uses them. Params and results stay opaque (`passthrough`) so the gateway
 * relays every field of every protocol era unchanged; only the envelope is validated.
 */
import { z } from 'zod';

export const JsonRpcId = z.union([z.string().max(256), z.number().int()]);
export type JsonRpcId = z.infer<typeof JsonRpcId>;

const Params = z.record(z.string(), z.unknown());

export const JsonRpcRequest = z.looseObject({
  jsonrpc: z.literal('2.0'),
  id: JsonRpcId,
  method: z.string().min(1).max(256),
  params: Params.optional(),
});
export type JsonRpcRequest = z.infer<typeof JsonRpcRequest>;

export const JsonRpcNotification = z.looseObject({
  jsonrpc: z.literal('2.0'),
  method: z.string().min(1).max(256),
  params: Params.optional(),
});
export type JsonRpcNotification = z.infer<typeof JsonRpcNotification>;

export const JsonRpcErrorObject = z.looseObject({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});
export type JsonRpcErrorObject = z.infer<typeof JsonRpcErrorObject>;

export const JsonRpcResult = z.looseObject({ jsonrpc: z.literal('2.0'), id: JsonRpcId, result: Params });
export type JsonRpcResult = z.infer<typeof JsonRpcResult>;

export const JsonRpcError = z.looseObject({
  jsonrpc: z.literal('2.0'),
  id: JsonRpcId.nullable(),
  error: JsonRpcErrorObject,
});
export type JsonRpcError = z.infer<typeof JsonRpcError>;

export const JsonRpcResponse = z.union([JsonRpcResult, JsonRpcError]);
export type JsonRpcResponse = z.infer<typeof JsonRpcResponse>;

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard and MCP error codes. */
export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Gateway-defined server errors (-32000..-32099). */
  UpstreamUnavailable: -32001,
  ResourceNotFound: -32002,
  RequestTimeout: -32003,
  Overloaded: -32004,
  ServiceUnavailable: -32005,
  /** A rate limit, concurrency limit or quota refused the call; `data` is a LimitExceeded. */
  RateLimited: -32006,
  /** Policy denied a request on something the principal may see (hidden things answer as unknown). */
  Forbidden: -32007,
  UrlElicitationRequired: -32042,
} as const;

/** Classifies a parsed JSON value as one JSON-RPC message kind, or explains why it is none. */
export type Classified =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse }
  | { kind: 'invalid'; id: JsonRpcId | null; reason: string };

export function classify(value: unknown): Classified {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { kind: 'invalid', id: null, reason: 'a JSON-RPC message must be an object' };
  const v = value as Record<string, unknown>;
  const rawId = JsonRpcId.safeParse(v['id']);
  const id = rawId.success ? rawId.data : null;
  if (v['jsonrpc'] !== '2.0') return { kind: 'invalid', id, reason: 'jsonrpc must be "2.0"' };
  if ('method' in v) {
    if ('id' in v) {
      const r = JsonRpcRequest.safeParse(v);
      return r.success
        ? { kind: 'request', message: r.data }
        : { kind: 'invalid', id, reason: describe(r.error) };
    }
    const n = JsonRpcNotification.safeParse(v);
    return n.success
      ? { kind: 'notification', message: n.data }
      : { kind: 'invalid', id: null, reason: describe(n.error) };
  }
  if ('result' in v || 'error' in v) {
    const r = JsonRpcResponse.safeParse(v);
    return r.success
      ? { kind: 'response', message: r.data }
      : { kind: 'invalid', id, reason: describe(r.error) };
  }
  return { kind: 'invalid', id, reason: 'neither a request, a notification nor a response' };
}

function describe(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid message';
  const path = first.path.length ? first.path.join('.') : 'message';
  return `${path}: ${first.message}`;
}

/** Builds a JSON-RPC error response. */
export function errorResponse(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): JsonRpcError {
  return data === undefined
    ? { jsonrpc: '2.0', id, error: { code, message } }
    : { jsonrpc: '2.0', id, error: { code, message, data } };
}
