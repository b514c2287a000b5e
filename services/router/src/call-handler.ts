/**
 * The `router.call` endpoints: one RouterCall in, one RouterReply out, carrying the JSON-RPC response with
 * the agent's own id. The session is remembered so that notifications without a call can reach it later.
 * The call's trace id travels with its origin to every request relayed upstream for it (audit trail); a
 * fail-closed trail without room refuses the call.
 */
import type { CallContext as BusCallContext } from '@meshgate/bus';
import { ErrorCodes, parseIngressStream, type RouterCall, type RouterReply } from '@meshgate/contracts';
import { traceIdOf } from '@meshgate/audit';
import type { CallContext } from './call-context';
import type { CallOrigin, Outcome } from './upstream/relay-table';
import { federatedCall } from './federated';
import { perServerCall } from './per-server';

const AuditUnavailable: Outcome = {
  error: { code: ErrorCodes.ServiceUnavailable, message: 'audit trail unavailable' },
};

/** Handles one call before the deadline of its bus context. */
export async function handleCall(
  ctx: CallContext,
  call: RouterCall,
  bus: BusCallContext,
): Promise<RouterReply> {
  ctx.sessions.remember(call.session);
  const origin: CallOrigin = {
    sessionId: call.session.id,
    agentId: call.message.id,
    stream: streamOf(call),
    traceId: traceIdOf(bus.traceparent),
  };
  const target = call.session.target;
  const outcome = !ctx.auditAdmits()
    ? AuditUnavailable
    : target.kind === 'federated'
      ? await federatedCall(ctx, call.message, origin, bus.deadline)
      : await perServerCall(ctx, target.server, call.message, origin, bus.deadline);
  return { v: 1, router: ctx.instanceId, message: { jsonrpc: '2.0', id: call.message.id, ...outcome } };
}

/** The call's stream subject, accepted only when it is an ingress stream subject (never an arbitrary one). */
function streamOf(call: RouterCall): string | undefined {
  return call.stream !== undefined && parseIngressStream(call.stream) ? call.stream : undefined;
}
