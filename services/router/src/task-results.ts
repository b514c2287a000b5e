/**
 * Tool calls of agents that cannot use tasks (issue 3): an agent of an era before 2025-11-25, or one that
 * declared no tasks support, gets the final result of a tool even when the upstream runs it as a task (MCP
 * 2025-11-25, SEP-1686). When the tool requires a task (`execution.taskSupport: "required"`) the router asks
 * for one itself; when the upstream answers with a task, the router polls tasks/get at the task's
 * `pollInterval` until it ends or needs input, then takes the result with tasks/result (which carries the
 * task's elicitation or sampling requests to the agent's call), all within the call's deadline. The task's
 * progress reaches the agent on its own token; cancelling the call, its deadline or the end of its session
 * cancels the task (tasks/cancel). The agent never sees the task: its id, status notifications and
 * related-task `_meta` stay with the gateway. Agents that use tasks get them passed through unchanged.
 */
import { ErrorCodes, type SessionInfo } from '@meshgate/contracts';
import { RelatedTaskMetaKey, createdTaskId, isTerminalTaskStatus } from '@meshgate/mcp';
import type { UpstreamConnection } from './upstream/connection';
import { RequestCancelledCode } from './upstream/connection';
import type { CallOrigin, Outcome } from './upstream/relay-table';
import { upstreamTimeout, type CallContext } from './call-context';

type Params = Record<string, unknown>;

/** The poll interval used when a task names none, and the bounds put on any the upstream names. */
export const DefaultPollMs = 500;
export const MinPollMs = 20;
export const MaxPollMs = 5_000;
/** How long past the call's deadline a task the router creates is kept upstream (its `ttl` beyond it). */
const TtlMarginMs = 60_000;
/** The share of a call's time left kept for its answer to reach the agent, at most `MaxReplyMarginMs`. */
const ReplyMarginShare = 0.1;
const MaxReplyMarginMs = 500;

const TasksExtension = 'io.modelcontextprotocol/tasks';

function isObject(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True when the session's agent can follow a task itself: it speaks 2025-11-25 or later and declared tasks
 * (the `tasks` capability, or from 2026-07-28 the tasks extension), or it asked for this call to be a task.
 */
export function agentUsesTasks(session: SessionInfo, params: Params | undefined): boolean {
  if (session.protocolVersion < '2025-11-25') return false;
  if (params?.['task'] !== undefined) return true;
  const caps = session.clientCapabilities;
  const extensions = caps['extensions'];
  return isObject(caps['tasks']) || (isObject(extensions) && extensions[TasksExtension] !== undefined);
}

/** True when the upstream declares task-augmented tools/call and lists tool `name` as requiring a task. */
async function requiresTask(conn: UpstreamConnection, name: unknown, deadline: number): Promise<boolean> {
  if (typeof name !== 'string') return false;
  if (conn.initializeResult === undefined)
    await conn.whenReady(Math.max(1, deadline - Date.now())).catch(() => undefined);
  const tasks = (conn.initializeResult?.['capabilities'] as Params | undefined)?.['tasks'];
  const requests = isObject(tasks) ? tasks['requests'] : undefined;
  const tools = isObject(requests) ? requests['tools'] : undefined;
  if (!isObject(tools) || !isObject(tools['call'])) return false;
  const listed = await conn.list('tools', deadline).catch(() => []);
  const tool = listed.find((t) => t['name'] === name);
  const execution = tool?.['execution'];
  return isObject(execution) && execution['taskSupport'] === 'required';
}

/**
 * Calls tool `params.name` on `conn` for an agent that cannot use tasks and answers its final result (or
 * the error that ended it). `params` are the upstream's own (de-namespaced).
 */
export async function callForFinalResult(
  ctx: CallContext,
  conn: UpstreamConnection,
  params: Params,
  origin: CallOrigin,
  deadline: number,
): Promise<Outcome> {
  const plain = Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'task'));
  const asTask = await requiresTask(conn, plain['name'], deadline);
  const sent = asTask ? { ...plain, task: { ttl: Math.max(0, deadline - Date.now()) + TtlMarginMs } } : plain;
  // Held from the start, so that whatever the upstream says about the task reaches this call only.
  conn.tasks.holdFor(origin);
  let taskId: string | undefined;
  try {
    const created = await conn.request('tools/call', sent, origin, upstreamTimeout(conn.def, deadline));
    if (!('result' in created) || 'content' in created.result) return created;
    taskId = createdTaskId(created.result);
    if (taskId === undefined) return created;
    // An upstream that made a task unasked was not booked by the connection.
    if (conn.tasks.ownerOf(taskId) === undefined)
      conn.tasks.record(taskId, origin.sessionId, undefined, origin);
    return await followTask(
      ctx,
      conn,
      taskId,
      created.result['task'],
      String(plain['name']),
      origin,
      deadline,
    );
  } finally {
    conn.tasks.releaseHold(origin);
    if (taskId !== undefined) conn.tasks.forget(taskId);
  }
}

/** Follows task `taskId` to its end for call `origin`, cancelling it when the call is cancelled or late. */
async function followTask(
  ctx: CallContext,
  conn: UpstreamConnection,
  taskId: string,
  first: unknown,
  tool: string,
  origin: CallOrigin,
  deadline: number,
): Promise<Outcome> {
  const signal = ctx.taskPolls.open(origin);
  // Polling stops early enough for the answer (a timeout included) to reach the agent in time.
  const left = deadline - Date.now();
  const until = deadline - Math.min(MaxReplyMarginMs, Math.max(0, left * ReplyMarginShare));
  try {
    const out = await pollToEnd(conn, taskId, first, origin, until, signal);
    if (out !== 'cancelled' && out !== 'timeout') return withoutRelatedTask(out);
    cancelTask(ctx, conn, taskId);
    return out === 'cancelled'
      ? { error: { code: RequestCancelledCode, message: 'request cancelled' } }
      : {
          error: {
            code: ErrorCodes.RequestTimeout,
            message: `tools/call: the task of ${tool} did not end in time`,
          },
        };
  } finally {
    ctx.taskPolls.close(origin, signal);
  }
}

/** Polls task `taskId` until it ends or needs input, then answers its tasks/result; gives up at `deadline`. */
async function pollToEnd(
  conn: UpstreamConnection,
  taskId: string,
  first: unknown,
  origin: CallOrigin,
  deadline: number,
  signal: AbortSignal,
): Promise<Outcome | 'cancelled' | 'timeout'> {
  let task = isObject(first) ? first : {};
  while (!isTerminalTaskStatus(task['status']) && task['status'] !== 'input_required') {
    const advised = typeof task['pollInterval'] === 'number' ? task['pollInterval'] : DefaultPollMs;
    const wait = Math.min(MaxPollMs, Math.max(MinPollMs, advised));
    if (Date.now() + wait >= deadline) return 'timeout';
    if (!(await sleep(wait, signal))) return 'cancelled';
    const timeoutMs = upstreamTimeout(conn.def, deadline);
    const got = await conn.request('tasks/get', { taskId }, undefined, timeoutMs);
    if (signal.aborted) return 'cancelled';
    if ('error' in got) return cutShort(got, deadline, timeoutMs < conn.def.timeoutMs) ? 'timeout' : got;
    task = got.result;
  }
  // tasks/result blocks until the task ends, carrying what the task asks of the agent on the call's stream.
  const out = await conn.request('tasks/result', { taskId }, origin, Math.max(1, deadline - Date.now()));
  if (signal.aborted) return 'cancelled';
  return 'error' in out && cutShort(out, deadline, true) ? 'timeout' : out;
}

/**
 * True when a failed request failed for the call's deadline: it is past, or the request timed out with a
 * budget the deadline had cut (`capped`; its timer may fire a millisecond before the clock reaches it).
 */
function cutShort(out: Extract<Outcome, { error: unknown }>, deadline: number, capped: boolean): boolean {
  return Date.now() >= deadline || (capped && out.error.code === ErrorCodes.RequestTimeout);
}

/** Waits `ms`; false when `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ended: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ended);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort);
  });
}

/** Cancels a task the agent no longer waits for (best effort: a failure is only logged). */
function cancelTask(ctx: CallContext, conn: UpstreamConnection, taskId: string): void {
  void conn.request('tasks/cancel', { taskId }, undefined, conn.def.timeoutMs).then((out) => {
    if ('error' in out)
      ctx.log.debug(
        { server: conn.server, err: out.error.message },
        'task of a cancelled call not cancelled',
      );
  });
}

/** A tasks/result outcome without the related-task `_meta` (the agent never saw the task). */
function withoutRelatedTask(out: Outcome): Outcome {
  if (!('result' in out)) return out;
  const meta = out.result['_meta'];
  if (!isObject(meta) || !(RelatedTaskMetaKey in meta)) return out;
  const rest = Object.fromEntries(Object.entries(meta).filter(([k]) => k !== RelatedTaskMetaKey));
  const result = Object.fromEntries(Object.entries(out.result).filter(([k]) => k !== '_meta'));
  return { result: Object.keys(rest).length > 0 ? { ...result, _meta: rest } : result };
}
