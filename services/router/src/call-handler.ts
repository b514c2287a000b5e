/**
 * The `router.call` endpoints: one RouterCall in, one RouterReply out, carrying the JSON-RPC response with
 * the agent's own id. The session is remembered so that notifications without a call can reach it later.
 */
import { parseIngressStream, type RouterCall, type RouterReply } from '@meshgate/contracts';
import type { CallContext } from './call-context';
import type { CallOrigin } from './upstream/relay-table';
import { federatedCall } from './federated';
import { perServerCall } from './per-server';

/** Handles one call before `deadline` (epoch ms). */
export async function handleCall(ctx: CallContext, call: RouterCall, deadline: number): Promise<RouterReply> {
  ctx.sessions.remember(call.session);
  const origin: CallOrigin = { sessionId: call.session.id, agentId: call.message.id, stream: streamOf(call) };
  const target = call.session.target;
  const outcome =
    target.kind === 'federated'
      ? await federatedCall(ctx, call.message, origin, deadline)
      : await perServerCall(ctx, target.server, call.message, origin, deadline);
  return { v: 1, router: ctx.instanceId, message: { jsonrpc: '2.0', id: call.message.id, ...outcome } };
}

/** The call's stream subject, accepted only when it is an ingress stream subject (never an arbitrary one). */
function streamOf(call: RouterCall): string | undefined {
  return call.stream !== undefined && parseIngressStream(call.stream) ? call.stream : undefined;
}
