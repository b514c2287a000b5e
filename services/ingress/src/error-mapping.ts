/**
 * How failures on the bus reach the agent: every BusError becomes a JSON-RPC error with the agent's own
 * request id (never a hang, never a stack trace), and an outcome label for the metrics. Pure.
 */
import { BusError } from '@meshgate/bus';
import { ErrorCodes, InvalidSubjectToken } from '@meshgate/contracts';
import { RouterReplicaGone } from './router-liveness';

/** Outcome label of a JSON-RPC call in the metrics. */
export type CallOutcome = 'ok' | 'error' | 'unavailable' | 'timeout' | 'rejected' | 'failed' | 'cancelled';

/** A JSON-RPC error code and message for the agent, with its outcome label. */
export interface MappedError {
  code: number;
  message: string;
  outcome: CallOutcome;
}

/** Maps an error thrown while calling the router to the JSON-RPC error the agent receives. */
export function mapCallError(err: unknown): MappedError {
  if (err instanceof RouterReplicaGone)
    return {
      code: ErrorCodes.UpstreamUnavailable,
      message: 'Upstream unavailable: the router replica holding the call is gone',
      outcome: 'unavailable',
    };
  if (err instanceof BusError) {
    if (err.code === 503)
      return {
        code: ErrorCodes.UpstreamUnavailable,
        message: 'Upstream unavailable: no router replica answered',
        outcome: 'unavailable',
      };
    if (err.code === 504)
      return { code: ErrorCodes.RequestTimeout, message: 'Request timed out', outcome: 'timeout' };
    if (err.code === 429)
      return { code: ErrorCodes.Overloaded, message: `Overloaded: ${err.message}`, outcome: 'rejected' };
    if (err.code === 404)
      return { code: ErrorCodes.InvalidParams, message: err.message, outcome: 'rejected' };
    if (err.isCallerFault)
      return { code: ErrorCodes.InvalidRequest, message: err.message, outcome: 'rejected' };
    return { code: ErrorCodes.InternalError, message: 'Internal error in the gateway', outcome: 'failed' };
  }
  if (err instanceof InvalidSubjectToken)
    return {
      code: ErrorCodes.InvalidRequest,
      message: 'Invalid Request: malformed routing token',
      outcome: 'rejected',
    };
  return { code: ErrorCodes.InternalError, message: 'Internal error in the gateway', outcome: 'failed' };
}

/** The HTTP status for a failed `initialize`: the router's 404 (unknown server) stays a 404. */
export function initializeStatus(err: unknown): number {
  return err instanceof BusError && err.code === 404 ? 404 : 200;
}
