/**
 * The pure part of the router's `upstream-call` events (ADR 003): what a request sent upstream names as its
 * target (as the upstream knows it: de-namespaced), how its outcome maps to the event's, and the trace id
 * of a traceparent. Values are clipped to the bounds of `AuditEvent`, so no agent-chosen value can make an
 * event invalid. No I/O.
 */
import type { AuditOutcome, JsonRpcId } from '@meshgate/contracts';
import type { Outcome } from './upstream/relay-table';

type Params = Record<string, unknown> | undefined;

/** Upstream codes the router itself answers with for a timeout and for a cancelled call. */
const TimeoutCode = -32003;
const CancelledCode = -32800;

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

/** The agent's request id within the event's bounds (string ids of more than 256 characters are cut). */
export function auditRequestId(id: JsonRpcId): string | number {
  return typeof id === 'string' ? clip(id, 256) : id;
}

/** The W3C trace id (32 hex digits) of a valid traceparent. */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}

/** The event's outcome and error of an upstream outcome. */
export function auditOutcome(outcome: Outcome): {
  outcome: AuditOutcome;
  error?: { code: number; message: string };
} {
  if ('result' in outcome) return { outcome: 'ok' };
  const { code, message } = outcome.error;
  const error = { code, message: clip(message, 1024) };
  if (code === TimeoutCode) return { outcome: 'timeout', error };
  if (code === CancelledCode) return { outcome: 'cancelled', error };
  return { outcome: 'error', error };
}
