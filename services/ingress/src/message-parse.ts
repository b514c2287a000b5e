/**
 * Turns a POST body into one classified JSON-RPC message, or into the HTTP status and JSON-RPC error the
 * agent gets instead (spec: invalid JSON is -32700, anything else malformed is -32600, both with HTTP 400).
 * Pure: no I/O.
 */
import { z } from 'zod';
import {
  ClientInfo,
  ErrorCodes,
  classify,
  errorResponse,
  type Classified,
  type JsonRpcError,
} from '@meshgate/contracts';

/** A classified message, or the HTTP status and JSON-RPC error to answer with. */
export type ParsedBody =
  | { ok: true; message: Exclude<Classified, { kind: 'invalid' }> }
  | { ok: false; status: number; error: JsonRpcError };

/** Parses the raw body of a POST to an MCP endpoint. */
export function parseBody(raw: Buffer | string | undefined): ParsedBody {
  const text = raw === undefined ? '' : typeof raw === 'string' ? raw : raw.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      ok: false,
      status: 400,
      error: errorResponse(null, ErrorCodes.ParseError, 'Parse error: body is not valid JSON'),
    };
  }
  if (Array.isArray(value))
    return {
      ok: false,
      status: 400,
      error: errorResponse(
        null,
        ErrorCodes.InvalidRequest,
        'Invalid Request: JSON-RPC batches are not supported',
      ),
    };
  const classified = classify(value);
  if (classified.kind === 'invalid')
    return {
      ok: false,
      status: 400,
      error: errorResponse(classified.id, ErrorCodes.InvalidRequest, `Invalid Request: ${classified.reason}`),
    };
  return { ok: true, message: classified };
}

/** The part of `initialize` params ingress needs to open a session; the rest travels unchanged. */
export const InitializeParams = z.looseObject({
  protocolVersion: z.string().min(1).max(32),
  capabilities: z.record(z.string(), z.unknown()).default({}),
  clientInfo: ClientInfo.optional(),
});
export type InitializeParams = z.infer<typeof InitializeParams>;
