/**
 * Tasks (MCP 2025-11-25, experimental SEP-1686) relayed for one session. On a connection the session owns
 * (a stateful server) every task is its own and everything passes unchanged. On a shared connection the
 * upstream sees one client for all sessions, so a session reaches only the tasks its own calls created:
 * tasks/get, tasks/result and tasks/cancel of another task answer "unknown task" (-32602, as the upstream
 * would for a task it does not hold) and tasks/list leaves the others out. Used by the per-server and the
 * federated endpoint alike; the federated one also namespaces the task ids.
 */
import { ErrorCodes, type JsonRpcErrorObject } from '@meshgate/contracts';
import type { UpstreamConnection } from './upstream/connection';
import type { CallOrigin, Outcome } from './upstream/relay-table';
import { MaxListPages } from './upstream/list-cache';

type Params = Record<string, unknown>;

/** True when `sessionId` may reach task `taskId` through `conn`. */
export function canReachTask(conn: UpstreamConnection, sessionId: string, taskId: unknown): boolean {
  return conn.owner !== undefined ? conn.owner === sessionId : conn.tasks.ownerOf(taskId) === sessionId;
}

/**
 * Relays tasks/get, tasks/result or tasks/cancel naming `params.taskId` when the session may reach that
 * task; answers `unknown` otherwise.
 */
export function relayTaskRequest(
  conn: UpstreamConnection,
  method: string,
  params: Params,
  origin: CallOrigin,
  timeoutMs: number,
  unknown: JsonRpcErrorObject,
): Promise<Outcome> {
  if (!canReachTask(conn, origin.sessionId, params['taskId'])) return Promise.resolve({ error: unknown });
  return conn.request(method, params, origin, timeoutMs);
}

/** Relays one page of tasks/list, leaving out the tasks the session may not reach. */
export async function relayTaskList(
  conn: UpstreamConnection,
  params: Params | undefined,
  origin: CallOrigin,
  timeoutMs: number,
): Promise<Outcome> {
  const out = await conn.request('tasks/list', params, origin, timeoutMs);
  if (!('result' in out)) return out;
  return { result: { ...out.result, tasks: reachable(conn, origin.sessionId, out.result['tasks']) } };
}

/**
 * Every task of `conn` the session may reach, following cursors (at most MaxListPages pages) until
 * `deadline`; rejects with the upstream's reason when a page fails. An upstream without tasks/list
 * (-32601) has none.
 */
export async function allReachableTasks(
  conn: UpstreamConnection,
  sessionId: string,
  deadline: number,
): Promise<Params[]> {
  const tasks: Params[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MaxListPages; page++) {
    const params = cursor === undefined ? undefined : { cursor };
    const out = await conn.request('tasks/list', params, undefined, deadline - Date.now());
    if ('error' in out) {
      if (out.error.code === ErrorCodes.MethodNotFound) return tasks;
      throw new Error(out.error.message);
    }
    tasks.push(...reachable(conn, sessionId, out.result['tasks']));
    const next = out.result['nextCursor'];
    if (typeof next !== 'string' || next === '' || next === cursor) break;
    cursor = next;
  }
  return tasks;
}

function reachable(conn: UpstreamConnection, sessionId: string, tasks: unknown): Params[] {
  if (!Array.isArray(tasks)) return [];
  return tasks.filter(
    (t: unknown): t is Params =>
      typeof t === 'object' && t !== null && canReachTask(conn, sessionId, (t as Params)['taskId']),
  );
}
