/**
 * Ingress's own part of its audit events (ADR 003): which arguments the trail keeps, and how a call outcome
 * and an answer map to the event's fields, clipped to the bounds of `AuditEvent`. The fields every service
 * derives alike (target, ids) come from @meshgate/audit. No I/O.
 */
import { clip } from '@meshgate/audit';
import type { AuditOutcome, JsonRpcError, JsonRpcResponse } from '@meshgate/contracts';
import type { CallOutcome } from './error-mapping';

type Params = Record<string, unknown> | undefined;

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
