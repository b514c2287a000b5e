/**
 * Turns a POST body into one classified JSON-RPC message or a batch, or into the HTTP status and JSON-RPC
 * error the agent gets instead (spec: invalid JSON is -32700, anything else malformed is -32600, both with
 * HTTP 400). A batch is checked whole before any of it runs (`parseBatch`). Pure: no I/O.
 */
import { z } from 'zod';
import {
  ClientInfo,
  ErrorCodes,
  classify,
  errorResponse,
  parseGatewayRequestId,
  type Classified,
  type JsonRpcError,
} from '@meshgate/contracts';

/** One valid JSON-RPC message: a request, a notification or a response. */
export type AgentMessage = Exclude<Classified, { kind: 'invalid' }>;

/** A classified message, or the HTTP status and JSON-RPC error to answer with. */
export type ParsedBody =
  { ok: true; message: AgentMessage } | { ok: false; status: number; error: JsonRpcError };

/** What `parsePost` gives: as `ParsedBody`, or a batch (a JSON array, still unchecked). */
export type ParsedPost = ParsedBody | { ok: true; batch: unknown[] };

/** Parses the raw body of a POST to an MCP endpoint where a batch may come (2025-03-26 sessions). */
export function parsePost(raw: Buffer | string | undefined): ParsedPost {
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
  if (Array.isArray(value)) return { ok: true, batch: value };
  const classified = classify(value);
  if (classified.kind === 'invalid')
    return {
      ok: false,
      status: 400,
      error: errorResponse(classified.id, ErrorCodes.InvalidRequest, `Invalid Request: ${classified.reason}`),
    };
  return { ok: true, message: classified };
}

/** Parses the raw body of a POST that must hold one message: a batch is refused (-32600). */
export function parseBody(raw: Buffer | string | undefined): ParsedBody {
  const parsed = parsePost(raw);
  if (!('batch' in parsed)) return parsed;
  return {
    ok: false,
    status: 400,
    error: errorResponse(
      null,
      ErrorCodes.InvalidRequest,
      'Invalid Request: JSON-RPC batches are not supported',
    ),
  };
}

/** The messages of a batch, every one valid; or the HTTP status and the error (or errors) to answer with. */
export type ParsedBatch =
  { ok: true; messages: AgentMessage[] } | { ok: false; status: number; body: JsonRpcError | JsonRpcError[] };

const invalidBatch = (id: JsonRpcError['id'], reason: string): ParsedBatch => ({
  ok: false,
  status: 400,
  body: errorResponse(id, ErrorCodes.InvalidRequest, `Invalid Request: ${reason}`),
});

/**
 * Checks a batch (spec 2025-03-26) before any of it runs: not empty, at most `max` messages, every entry a
 * valid message (otherwise one error per invalid entry, as JSON-RPC answers a batch), no `initialize`
 * (spec: it must not be part of a batch), no request id twice, and answers only to requests the gateway
 * sent.
 */
export function parseBatch(entries: readonly unknown[], max: number): ParsedBatch {
  if (entries.length === 0) return invalidBatch(null, 'empty batch');
  if (entries.length > max)
    return invalidBatch(null, `a batch holds at most ${max} messages, this one ${entries.length}`);
  const messages: AgentMessage[] = [];
  const errors: JsonRpcError[] = [];
  for (const entry of entries) {
    const c = classify(entry);
    if (c.kind === 'invalid')
      errors.push(errorResponse(c.id, ErrorCodes.InvalidRequest, `Invalid Request: ${c.reason}`));
    else messages.push(c);
  }
  if (errors.length > 0) return { ok: false, status: 400, body: errors };
  const ids = new Set<string>();
  for (const m of messages) {
    if (m.kind === 'response') {
      if (!parseGatewayRequestId(m.message.id))
        return invalidBatch(null, 'response to a request this gateway did not send');
      continue;
    }
    if (m.kind !== 'request') continue;
    if (m.message.method === 'initialize')
      return invalidBatch(m.message.id, 'initialize must not be part of a JSON-RPC batch');
    const id = `${typeof m.message.id}:${m.message.id}`;
    if (ids.has(id)) return invalidBatch(m.message.id, 'a request id appears twice in the batch');
    ids.add(id);
  }
  return { ok: true, messages };
}

/** The part of `initialize` params ingress needs to open a session; the rest travels unchanged. */
export const InitializeParams = z.looseObject({
  protocolVersion: z.string().min(1).max(32),
  capabilities: z.record(z.string(), z.unknown()).default({}),
  clientInfo: ClientInfo.optional(),
});
export type InitializeParams = z.infer<typeof InitializeParams>;
