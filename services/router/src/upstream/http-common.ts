/**
 * Pieces both HTTP transports share: request headers built from the definition, the decoding of SSE events
 * into JSON-RPC messages, and an abortable sleep for reconnect delays.
 */
import type { EventSourceMessage } from 'eventsource-parser';
import type { JsonRpcErrorObject } from '@meshgate/contracts';
import { parseJson } from './transport';
import type { HttpAnswer } from './http-request';

/** The definition's headers with lower-cased names, so the transport's own headers replace any same-named one. */
export function baseHeaders(configured: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(configured)) headers[name.toLowerCase()] = value;
  return headers;
}

/**
 * The JSON-RPC messages an SSE event carries: none for priming events (empty data) and events of another
 * type, one for a message, several for a batch. Null when the data is not JSON.
 */
export function eventMessages(event: EventSourceMessage): unknown[] | null {
  if (event.event !== undefined && event.event !== 'message') return [];
  if (!event.data.trim()) return [];
  const parsed = parseJson(event.data);
  if (parsed === undefined) return null;
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** The error object of a JSON-RPC error response in `body`, if it is one. */
export function errorInBody(body: string): JsonRpcErrorObject | undefined {
  const parsed = parseJson(body) as { error?: { code?: unknown; message?: unknown } } | undefined;
  const error = parsed?.error;
  if (typeof error?.code === 'number' && typeof error.message === 'string')
    return { code: error.code, message: error.message };
  return undefined;
}

/** True when the response carries an event stream. */
export function isEventStream(res: HttpAnswer): boolean {
  return (res.header('content-type') ?? '').toLowerCase().includes('text/event-stream');
}

/** Waits `ms`, or less when `signal` aborts (then resolves false). */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Drops a body nobody reads, so the connection can be reused. */
export function discard(res: HttpAnswer): void {
  res.discard();
}
