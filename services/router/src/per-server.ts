/**
 * Calls on a per-server endpoint (`/servers/<name>/mcp`): names pass unchanged and everything is forwarded
 * to that upstream, cursors included. initialize answers with the upstream's own InitializeResult and the
 * version negotiated with the agent; subscriptions and the log level are also kept by the gateway, and a
 * session on a shared connection reaches only the tasks it created (task-access). An agent that cannot use
 * tasks gets a tool's final result even when the upstream runs it as a task (task-results).
 */
import { CallerFault } from '@meshgate/bus';
import type { JsonRpcRequest } from '@meshgate/contracts';
import { isLoggingLevel, listKindOf, negotiateVersion, unknownTargetError } from '@meshgate/mcp';
import type { Outcome } from './upstream/relay-table';
import { filterList, gateRequest, type GateCall } from './call-gate';
import { setLevel, subscribe, unsubscribe } from './upstream/session-requests';
import {
  missingCredential,
  unavailable,
  upstreamLevel,
  upstreamTimeout,
  type CallContext,
} from './call-context';
import type { UpstreamConnection } from './upstream/connection';
import { relayTaskList, relayTaskRequest } from './task-access';
import { agentUsesTasks, callForFinalResult } from './task-results';

/** Answers one request of a session bound to `server`; an unknown or disabled server is a 404 caller fault. */
export async function perServerCall(
  ctx: CallContext,
  server: string,
  msg: JsonRpcRequest,
  call: GateCall,
  deadline: number,
): Promise<Outcome> {
  const def = ctx.registry.get(server);
  if (!def) throw new CallerFault(`unknown server ${server}`, 404);
  const { origin } = call;
  const missing = missingCredential(ctx, def, origin.sessionId);
  if (missing) return unavailable(server, missing);
  const conn = ctx.pool.connectionFor(def, origin.sessionId);
  const gate = await gateRequest(ctx, call, server, msg.method, msg.params, msg.params, conn);
  if (!gate.ok) return gate.outcome;
  try {
    const out = await relay(ctx, server, conn, msg, call, deadline);
    const kind = listKindOf(msg.method);
    if (!kind || !('result' in out) || !Array.isArray(out.result[kind])) return out;
    // One page of the upstream's list, its cursor kept: filtered to what the principal may use.
    const items = (out.result[kind] as unknown[]).filter(
      (item): item is Record<string, unknown> =>
        typeof item === 'object' && item !== null && !Array.isArray(item),
    );
    return { result: { ...out.result, [kind]: filterList(ctx, call, server, kind, items) } };
  } finally {
    gate.release();
  }
}

/** Sends one request of the session upstream (or answers it from the gateway's own state). */
async function relay(
  ctx: CallContext,
  server: string,
  conn: UpstreamConnection,
  msg: JsonRpcRequest,
  call: GateCall,
  deadline: number,
): Promise<Outcome> {
  const { origin } = call;
  const def = conn.def;
  const timeout = upstreamTimeout(def, deadline);
  const params = msg.params ?? {};
  switch (msg.method) {
    case 'initialize': {
      try {
        await conn.whenReady(timeout);
      } catch (err) {
        return unavailable(server, err instanceof Error ? err.message : String(err));
      }
      return {
        result: { ...conn.initializeResult, protocolVersion: negotiateVersion(params['protocolVersion']) },
      };
    }
    case 'logging/setLevel': {
      const level = params['level'];
      const sent = isLoggingLevel(level)
        ? { ...params, level: upstreamLevel(ctx, conn, origin.sessionId, level) }
        : params;
      const out = await setLevel(conn, sent, origin, timeout);
      const session = ctx.sessions.get(origin.sessionId);
      if ('result' in out && session && isLoggingLevel(params['level'])) session.level = params['level'];
      return out;
    }
    case 'resources/subscribe':
      return subscribe(conn, params, origin, timeout);
    case 'resources/unsubscribe':
      return unsubscribe(conn, params, origin, timeout);
    case 'tasks/get':
    case 'tasks/result':
    case 'tasks/cancel':
      return relayTaskRequest(
        conn,
        msg.method,
        params,
        origin,
        timeout,
        unknownTargetError(msg.method, params),
      );
    case 'tasks/list':
      return relayTaskList(conn, msg.params, origin, timeout);
    case 'tools/call':
      if (!agentUsesTasks(call.session, msg.params))
        return callForFinalResult(ctx, conn, params, origin, deadline);
      return conn.request(msg.method, msg.params, origin, timeout);
    default:
      return conn.request(msg.method, msg.params, origin, timeout);
  }
}
