/**
 * Tasks on the federated endpoint: tasks/list merged from every upstream that declares tasks/list, each task id
 * namespaced `<server><sep><taskId>` and only the tasks the session created on shared connections. Like the
 * other federated lists it waits for upstreams under a deadline and names those left out in
 * `_meta["io.meshgate/unavailable"]`. Requests naming one task are routed in federated.ts.
 */
import { declaresTaskList, namespaceTask } from '@meshgate/mcp';
import type { UpstreamConnection } from './upstream/connection';
import type { Outcome } from './upstream/relay-table';
import { missingCredential, type CallContext } from './call-context';
import { listBudget, splitShares, within } from './federation-info';
import { allReachableTasks } from './task-access';

type Params = Record<string, unknown>;

/** The merged tasks/list of a federated session. */
export async function federatedTaskList(
  ctx: CallContext,
  sessionId: string,
  deadline: number,
): Promise<Outcome> {
  const budget = listBudget(ctx.listDeadlineMs, deadline);
  const shares = await Promise.all(
    ctx.registry.enabled().map((def) => {
      const missing = missingCredential(ctx, def, sessionId);
      if (missing) return Promise.resolve({ server: def.name, error: missing });
      const conn = ctx.pool.connectionFor(def, sessionId);
      return within(def.name, tasksOf(conn, sessionId, Date.now() + budget), budget);
    }),
  );
  const { lists, unavailable } = splitShares(shares);
  const tasks = lists.flatMap(({ server, items }) =>
    items.map((t) => namespaceTask(t, server, ctx.separator)),
  );
  const result: Params = { tasks };
  if (unavailable.length > 0) {
    result['_meta'] = { 'io.meshgate/unavailable': unavailable };
    ctx.log.warn({ unavailable }, 'federated tasks/list left out unavailable upstreams');
  }
  return { result };
}

/** The tasks of one upstream the session may reach; none when the upstream does not declare tasks/list. */
async function tasksOf(conn: UpstreamConnection, sessionId: string, deadline: number): Promise<Params[]> {
  await conn.whenReady(deadline - Date.now());
  if (!declaresTaskList(capabilitiesOf(conn))) return [];
  return allReachableTasks(conn, sessionId, deadline);
}

function capabilitiesOf(conn: UpstreamConnection): unknown {
  return conn.initializeResult?.['capabilities'];
}
