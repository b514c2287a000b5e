/**
 * Calls on the federated endpoint (`/mcp`): initialize and ping are answered by the gateway; lists are
 * fetched from every enabled upstream in parallel under a deadline and merged with namespaced names;
 * requests naming a tool, prompt, resource or completion reference are de-namespaced and forwarded to
 * that server, and resource URIs in their results namespaced again; logging/setLevel reaches every upstream.
 */
import { ErrorCodes, type JsonRpcRequest } from '@meshgate/contracts';
import {
  isLoggingLevel,
  listKindOf,
  mergeLists,
  namespaceResultUris,
  routeRequest,
  unknownTargetError,
  type ListKind,
  type ServerList,
} from '@meshgate/mcp';
import type { CallOrigin, Outcome } from './upstream/relay-table';
import { setLevel, subscribe, unsubscribe } from './upstream/session-requests';
import { upstreamTimeout, type CallContext } from './call-context';
import { federatedInitializeResult, listBudget } from './federation-info';
import { RouterVersion } from './version';

/** Answers one request of a federated session. */
export async function federatedCall(
  ctx: CallContext,
  msg: JsonRpcRequest,
  origin: CallOrigin,
  deadline: number,
): Promise<Outcome> {
  const { method, params } = msg;
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
  if (kind) return federatedList(ctx, kind, origin.sessionId, deadline);
  if (method === 'logging/setLevel') return setLevelEverywhere(ctx, params, origin, deadline);
  const routed = routeRequest(method, params, ctx.separator);
  if (!routed) return { error: { code: ErrorCodes.MethodNotFound, message: `method not found: ${method}` } };
  if ('error' in routed) return routed;
  const def = ctx.registry.get(routed.server);
  if (!def) return { error: unknownTargetError(method, params) };
  const conn = ctx.pool.connectionFor(def, origin.sessionId);
  const timeout = upstreamTimeout(def, deadline);
  const out =
    method === 'resources/subscribe'
      ? await subscribe(conn, routed.params, origin, timeout)
      : method === 'resources/unsubscribe'
        ? await unsubscribe(conn, routed.params, origin, timeout)
        : await conn.request(method, routed.params, origin, timeout);
  return 'result' in out ? { result: namespaceResultUris(method, out.result, def.name) } : out;
}

/** One upstream's share of a federated list. */
type Share = { server: string; items: Record<string, unknown>[] } | { server: string; error: string };

/**
 * Merges the list of `kind` from every enabled upstream. Upstreams that fail or miss the deadline are
 * left out and named in `_meta["io.meshgate/unavailable"]`; their fetch goes on to fill the cache.
 */
async function federatedList(
  ctx: CallContext,
  kind: ListKind,
  sessionId: string,
  deadline: number,
): Promise<Outcome> {
  const budget = listBudget(ctx.listDeadlineMs, deadline);
  const shares = await Promise.all(
    ctx.registry.enabled().map((def) => {
      const fetching = ctx.pool.connectionFor(def, sessionId).list(kind, Date.now() + def.timeoutMs);
      return within(def.name, fetching, budget);
    }),
  );
  const lists: ServerList[] = [];
  const unavailable: { server: string; error: string }[] = [];
  for (const share of shares) {
    if ('error' in share) unavailable.push(share);
    else lists.push(share);
  }
  const result: Record<string, unknown> = { [kind]: mergeLists(kind, lists, ctx.separator) };
  if (unavailable.length > 0) {
    result['_meta'] = { 'io.meshgate/unavailable': unavailable };
    ctx.log.warn({ kind, unavailable }, 'federated list left out unavailable upstreams');
  }
  return { result };
}

function within(server: string, fetching: Promise<Record<string, unknown>[]>, ms: number): Promise<Share> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Share>((resolve) => {
    timer = setTimeout(() => resolve({ server, error: `no answer within ${ms} ms` }), ms);
  });
  const done = fetching.then(
    (items): Share => ({ server, items }),
    (err: unknown): Share => ({ server, error: err instanceof Error ? err.message : String(err) }),
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
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
        { ...params },
        undefined,
        Math.max(1, Math.min(budget, upstreamTimeout(def, deadline))),
      );
      if ('error' in out)
        ctx.log.warn({ server: def.name, err: out.error.message }, 'upstream refused logging/setLevel');
    }),
  );
  return { result: {} };
}
