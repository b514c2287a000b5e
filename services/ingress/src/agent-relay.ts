/**
 * What an agent sends that needs no answer from ingress, relayed to the router side: notifications reach
 * every router replica of the session (and an agent's `notifications/cancelled` also ends that call here,
 * when this replica holds it); answers to server-to-client requests go back to the router replica that
 * issued them. Shared by single POSTs, batches and the legacy HTTP+SSE transport.
 */
import {
  JsonRpcId,
  Subjects,
  parseGatewayRequestId,
  type JsonRpcNotification,
  type JsonRpcResponse,
  type ToUpstream,
} from '@meshgate/contracts';
import { pendingKey, type IngressContext } from './context';

/** Agent notifications: `initialized` ends here; the rest reach every router replica of the session. */
export function forwardNotification(
  ctx: IngressContext,
  sessionId: string,
  message: JsonRpcNotification,
): void {
  if (message.method !== 'notifications/initialized') {
    const out: ToUpstream = { v: 1, sessionId, message };
    ctx.bus.publish(Subjects.sessionToUpstream(sessionId), out);
  }
  if (message.method === 'notifications/cancelled') {
    const requestId = JsonRpcId.safeParse(message.params?.['requestId']);
    if (requestId.success) ctx.inflight.get(pendingKey(sessionId, requestId.data))?.();
  }
}

/**
 * An answer to a server-to-client request, sent to the router replica that issued it; false (nothing
 * sent) when its id is not one this gateway gave.
 */
export function forwardResponse(ctx: IngressContext, sessionId: string, message: JsonRpcResponse): boolean {
  const issuer = parseGatewayRequestId(message.id);
  if (!issuer) return false;
  const out: ToUpstream = { v: 1, sessionId, message };
  ctx.bus.publish(Subjects.routerToUpstream(issuer.instance), out);
  return true;
}
