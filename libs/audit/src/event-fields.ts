/**
 * Event fields every publishing service derives the same way from the request it handles: what the request
 * names as its target, its id and trace id, each clipped to the bounds of `AuditEvent` so that no value an
 * agent chooses can make an event invalid. Pure.
 */
import type { JsonRpcId } from '@meshgate/contracts';

type Params = Record<string, unknown> | undefined;

/** `text` cut to at most `max` characters. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}

/** The tool or prompt name, resource URI, completion reference or task id a request names. */
export function requestTarget(method: string, params: Params): string | undefined {
  const pick = (value: unknown) => (typeof value === 'string' ? clip(value, 1024) : undefined);
  switch (method) {
    case 'tools/call':
    case 'prompts/get':
      return pick(params?.['name']);
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return pick(params?.['uri']);
    case 'completion/complete': {
      const ref = params?.['ref'] as Record<string, unknown> | undefined;
      return pick(ref?.['name'] ?? ref?.['uri']);
    }
    case 'tasks/get':
    case 'tasks/result':
    case 'tasks/cancel':
      return pick(params?.['taskId']);
    default:
      return undefined;
  }
}

/** The JSON-RPC id as the event keeps it. */
export function auditRequestId(id: JsonRpcId): string | number {
  return typeof id === 'string' ? clip(id, 256) : id;
}

/** The W3C trace id (32 hex digits) of a valid traceparent. */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}
