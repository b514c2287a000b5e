/**
 * The pure part of ingress's audit events (ADR 003): what a request names as its target, which arguments
 * the trail keeps, and how a call outcome and an answer map to the event's fields, each clipped to the
 * bounds of `AuditEvent` so that no agent-chosen value can make an event invalid. No I/O.
 */
import type { AuditOutcome, JsonRpcError, JsonRpcId, JsonRpcResponse } from '@meshgate/contracts';
import type { CallOutcome } from './error-mapping';

type Params = Record<string, unknown> | undefined;

/** `text` cut to at most `max` characters. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}

/** The tool or prompt name, resource URI or completion reference a request names, when it names one. */
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
    default:
      return undefined;
  }
}

/** The arguments the trail records (as digest and redacted copy): those of tools/call and prompts/get. */
export function requestArguments(method: string, params: Params): { present: boolean; value: unknown } {
  if (
    (method !== 'tools/call' && method !== 'prompts/get') ||
    params === undefined ||
    !('arguments' in params)
  )
    return { present: false, value: undefined };
  return { present: true, value: params['arguments'] };
}

/** The agent's request id within the event's bounds (string ids of more than 256 characters are cut). */
export function auditRequestId(id: JsonRpcId): string | number {
  return typeof id === 'string' ? clip(id, 256) : id;
}

/** The W3C trace id (32 hex digits) of a valid traceparent. */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}

/** The audit outcome of a call outcome: refusals and gateway failures are errors. */
export function auditOutcome(outcome: CallOutcome): AuditOutcome {
  switch (outcome) {
    case 'ok':
    case 'timeout':
    case 'cancelled':
      return outcome;
    default:
      return 'error';
  }
}

/** The JSON-RPC error of an answer, when it is one, with its message clipped. */
export function errorDetail(response: JsonRpcResponse | null): { code: number; message: string } | undefined {
  if (response === null || !('error' in response)) return undefined;
  const { code, message } = (response as JsonRpcError).error;
  return { code, message: clip(message, 1024) };
}
