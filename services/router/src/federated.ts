/**
 * Calls on the federated endpoint (`/mcp`): initialize and ping are answered by the gateway; lists are
 * fetched from every enabled upstream in parallel under a deadline and merged with namespaced names (tasks
 * in federated-tasks); requests naming a tool, prompt, resource, completion reference or task are
 * de-namespaced and forwarded to that server, and resource URIs and task ids in their results namespaced
 * again; logging/setLevel reaches every upstream.
 */
import { ErrorCodes, type JsonRpcRequest } from '@meshgate/contracts';
import {
  isLoggingLevel,
  isTaskIdMethod,
  listKindOf,
  mergeLists,
  namespaceResult,
  routeRequest,
  unknownTargetError,
  type ListKind,
} from '@meshgate/mcp';
import type { UpstreamConnection } from './upstream/connection';
import type { CallOrigin, Outcome } from './upstream/relay-table';
import { filterList, gateRequest, type GateCall } from './call-gate';
import { setLevel, subscribe, unsubscribe } from './upstream/session-requests';
import {
  missingCredential,
  unavailable,
  upstreamLevel,
  upstreamTimeout,
  type CallContext,
} from './call-context';
import { federatedInitializeResult, listBudget, splitShares, within } from './federation-info';
import { federatedTaskList } from './federated-tasks';
import { relayTaskRequest } from './task-access';
import { agentUsesTasks, callForFinalResult } from './task-results';
import { RouterVersion } from './version';

/** Answers one request of a federated session. */
export async function federatedCall(
  ctx: CallContext,
  msg: JsonRpcRequest,
  call: GateCall,
  deadline: number,
): Promise<Outcome> {
  const { method, params } = msg;
  const { origin } = call;
  if (method === 'initialize')
    return {
      result: federatedInitializeResult(
        params?.['protocolVersion'],
        ctx.registry.enabled(),
        ctx.separator,
        RouterVersion,
      ),
    };
  if (method === 'ping') return { result: {} };
  const kind = listKindOf(method);
  if (kind) return federatedList(ctx, kind, call, deadline);
  if (method === 'tasks/list') return federatedTaskList(ctx, origin.sessionId, deadline);
  if (method === 'logging/setLevel') return setLevelEverywhere(ctx, params, origin, deadline);
  const routed = routeRequest(method, params, ctx.separator);
  if (!routed) return { error: { code: ErrorCodes.MethodNotFound, message: `method not found: ${method}` } };
  if ('error' in routed) return routed;
  const def = ctx.registry.get(routed.server);
  if (!def) return { error: unknownTargetError(method, params) };
  const missing = missingCredential(ctx, def, origin.sessionId);
  if (missing) return unavailable(def.name, missing);
  const conn = ctx.pool.connectionFor(def, origin.sessionId);
  const gate = await gateRequest(ctx, call, def.name, method, routed.params, params, conn);
  if (!gate.ok) return gate.outcome;
  try {
    const out = await forward(ctx, conn, msg, routed.params, call, deadline);
    return 'result' in out ? { result: namespaceResult(method, out.result, def.name, ctx.separator) } : out;
  } finally {
    gate.release();
  }
}

/**
 * Sends a routed request upstream with the upstream's own names (`params`); a tool call of an agent that
 * cannot use tasks gets its final result (task-results).
 */
function forward(
  ctx: CallContext,
  conn: UpstreamConnection,
  msg: JsonRpcRequest,
  params: Record<string, unknown>,
  call: GateCall,
  deadline: number,
): Promise<Outcome> {
  const { method } = msg;
  const { origin } = call;
  const timeout = upstreamTimeout(conn.def, deadline);
  if (method === 'tools/call' && !agentUsesTasks(call.session, msg.params))
    return callForFinalResult(ctx, conn, params, origin, deadline);
  if (method === 'resources/subscribe') return subscribe(conn, params, origin, timeout);
  if (method === 'resources/unsubscribe') return unsubscribe(conn, params, origin, timeout);
  if (isTaskIdMethod(method))
    return relayTaskRequest(conn, method, params, origin, timeout, unknownTargetError(method, msg.params));
  return conn.request(method, params, origin, timeout);
}

/**
 * Merges the list of `kind` from every enabled upstream, each filtered to what the session's principal
 * may use. Upstreams that fail or miss the deadline are left out and named in
 * `_meta["io.meshgate/unavailable"]`; their fetch goes on to fill the cache.
 */
async function federatedList(
  ctx: CallContext,
  kind: ListKind,
  call: GateCall,
  deadline: number,
): Promise<Outcome> {
  const budget = listBudget(ctx.listDeadlineMs, deadline);
  const shares = await Promise.all(
    ctx.registry.enabled().map((def) => {
      const missing = missingCredential(ctx, def, call.origin.sessionId);
      if (missing) return Promise.resolve({ server: def.name, error: missing });
      const fetching = ctx.pool
        .connectionFor(def, call.origin.sessionId)
        .list(kind, Date.now() + def.timeoutMs);
      return within(def.name, fetching, budget);
    }),
  );
  const { lists, unavailable } = splitShares(shares);
  const visible = lists.map(({ server, items }) => ({
    server,
    items: filterList(ctx, call, server, kind, items),
  }));
  const result: Record<string, unknown> = { [kind]: mergeLists(kind, visible, ctx.separator) };
  if (unavailable.length > 0) {
    result['_meta'] = { 'io.meshgate/unavailable': unavailable };
    ctx.log.warn({ kind, unavailable }, 'federated list left out unavailable upstreams');
  }
  return { result };
}

/** Sets the session's level and forwards it to every enabled upstream that offers logging. */
async function setLevelEverywhere(
  ctx: CallContext,
  params: Record<string, unknown> | undefined,
  origin: CallOrigin,
  deadline: number,
): Promise<Outcome> {
  const level = params?.['level'];
  if (!isLoggingLevel(level))
    return { error: { code: ErrorCodes.InvalidParams, message: `invalid log level: ${String(level)}` } };
  const session = ctx.sessions.get(origin.sessionId);
  if (session) session.level = level;
  const budget = listBudget(ctx.listDeadlineMs, deadline);
  await Promise.all(
    ctx.registry.enabled().map(async (def) => {
      if (missingCredential(ctx, def, origin.sessionId)) return;
      const conn = ctx.pool.connectionFor(def, origin.sessionId);
      try {
        await conn.whenReady(budget);
      } catch {
        return;
      }
      const capabilities = conn.initializeResult?.['capabilities'] as Record<string, unknown> | undefined;
      if (capabilities?.['logging'] === undefined) return;
      const out = await setLevel(
        conn,
        { ...params, level: upstreamLevel(ctx, conn, origin.sessionId, level) },
        undefined,
        Math.max(1, Math.min(budget, upstreamTimeout(def, deadline))),
      );
      if ('error' in out)
        ctx.log.warn({ server: def.name, err: out.error.message }, 'upstream refused logging/setLevel');
    }),
  );
  return { result: {} };
}
