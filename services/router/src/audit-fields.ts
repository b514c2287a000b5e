/**
 * The router's own part of its `upstream-call` events (ADR 003): how an upstream outcome maps to the
 * event's. The fields every service derives alike (target, ids) come from @meshgate/audit. No I/O.
 */
import { clip } from '@meshgate/audit';
import type { AuditOutcome } from '@meshgate/contracts';
import type { Outcome } from './upstream/relay-table';

/** Upstream codes the router itself answers with for a timeout and for a cancelled call. */
const TimeoutCode = -32003;
const CancelledCode = -32800;

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
