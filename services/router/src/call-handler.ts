/**
 * The `router.call` endpoints: one RouterCall in, one RouterReply out, carrying the JSON-RPC response with
 * the agent's own id. The session is remembered so that notifications without a call can reach it later.
 * The call's trace id travels with its origin to every request relayed upstream for it (audit trail); a
 * fail-closed trail without room refuses the call. A result goes back in a form the agent's negotiated
 * version can read (libs/mcp era-results), an error with the codes of the agent's era (era-errors).
 */
import type { CallContext as BusCallContext } from '@meshgate/bus';
import { ErrorCodes, parseIngressStream, type RouterCall, type RouterReply } from '@meshgate/contracts';
import { traceIdOf } from '@meshgate/audit';
import { errorForAgent, resultForAgent } from '@meshgate/mcp';
import type { CallContext } from './call-context';
import type { CallOrigin, Outcome } from './upstream/relay-table';
import { federatedCall } from './federated';
import { perServerCall } from './per-server';
import type { GateCall } from './call-gate';

const AuditUnavailable: Outcome = {
  error: { code: ErrorCodes.ServiceUnavailable, message: 'audit trail unavailable' },
};

/** A call refused because no policy decision can be trusted now (fail closed). */
function policyUnavailable(reason: string): Outcome {
  return { error: { code: ErrorCodes.ServiceUnavailable, message: `policy unavailable: ${reason}` } };
}

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
  const gate: GateCall = { session: call.session, origin, clientAddress: call.clientAddress };
  const outcome = await answer(ctx, call, gate, bus.deadline);
  // What the agent's version cannot read is converted to what it can (an upstream may be of another era).
  let result = outcome;
  if ('result' in outcome) {
    const converted = resultForAgent(call.message.method, outcome.result, call.session.protocolVersion);
    if (converted !== outcome.result) result = { result: converted };
  } else {
    const { method, params } = call.message;
    const converted = errorForAgent(method, params, outcome.error, call.session);
    if (converted !== outcome.error) result = { error: converted };
  }
  return { v: 1, router: ctx.instanceId, message: { jsonrpc: '2.0', id: call.message.id, ...result } };
}

/** The outcome of a call: refused while the trail or policy cannot vouch for it, else routed by target. */
async function answer(
  ctx: CallContext,
  call: RouterCall,
  gate: GateCall,
  deadline: number,
): Promise<Outcome> {
  if (!ctx.auditAdmits()) return AuditUnavailable;
  const policyDown = call.message.method === 'ping' ? null : ctx.authz.unavailable();
  if (policyDown !== null) return policyUnavailable(policyDown);
  ctx.pool.callers.remember(call.session, call.subjectToken);
  const target = call.session.target;
  return target.kind === 'federated'
    ? federatedCall(ctx, call.message, gate, deadline)
    : perServerCall(ctx, target.server, call.message, gate, deadline);
}

/** The call's stream subject, accepted only when it is an ingress stream subject (never an arbitrary one). */
function streamOf(call: RouterCall): string | undefined {
  return call.stream !== undefined && parseIngressStream(call.stream) ? call.stream : undefined;
}
