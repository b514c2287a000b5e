/**
 * Tasks (MCP 2025-11-25, experimental SEP-1686) on the federated endpoint. A task id is namespaced like a
 * name, `<server><sep><taskId>`, wherever an upstream sends one: the `task` of a CreateTaskResult, the
 * Task that tasks/get and tasks/cancel answer, the items of tasks/list, notifications/tasks/status, and the
 * related-task `_meta` of any message. Requests naming a task are routed by request-mapping. Also what the
 * federated endpoint declares as its `tasks` capability and how to tell which upstreams offer tasks.
 */
import { namespaceTaskId, DefaultSeparator } from './namespacing';

type Params = Record<string, unknown>;

/** The `_meta` key associating a message with a task. */
export const RelatedTaskMetaKey = 'io.modelcontextprotocol/related-task';

/** The task requests that name one task in `params.taskId`. */
export const TaskIdMethods = ['tasks/get', 'tasks/result', 'tasks/cancel'] as const;

/** The `tasks` capability of the federated endpoint: tasks/list, tasks/cancel and task-augmented tools/call. */
export const FederatedTasksCapability: Record<string, unknown> = {
  list: {},
  cancel: {},
  requests: { tools: { call: {} } },
};

/** True when `method` names one task in `params.taskId`. */
export function isTaskIdMethod(method: string): boolean {
  return (TaskIdMethods as readonly string[]).includes(method);
}

/** True when server `capabilities` declare tasks/list. */
export function declaresTaskList(capabilities: unknown): boolean {
  const tasks = isObject(capabilities) ? capabilities['tasks'] : undefined;
  return isObject(tasks) && isObject(tasks['list']);
}

/** The statuses after which a task never changes again. */
export const TerminalTaskStatuses = ['completed', 'failed', 'cancelled'] as const;

/** True when a task `status` is terminal (completed, failed or cancelled). */
export function isTerminalTaskStatus(status: unknown): boolean {
  return (TerminalTaskStatuses as readonly unknown[]).includes(status);
}

/** The id of the task a task-augmented request created, when `result` is a CreateTaskResult. */
export function createdTaskId(result: Params): string | undefined {
  const task = result['task'];
  return isObject(task) && typeof task['taskId'] === 'string' ? task['taskId'] : undefined;
}

/**
 * The task a message of `method` from an upstream is about: the task of notifications/tasks/status, else the
 * related task named in `params._meta`; undefined when it names none.
 */
export function relatedTaskId(method: string, params: Params | undefined): string | undefined {
  if (method === 'notifications/tasks/status')
    return typeof params?.['taskId'] === 'string' ? params['taskId'] : undefined;
  const meta = params?.['_meta'];
  const related = isObject(meta) ? meta[RelatedTaskMetaKey] : undefined;
  return isObject(related) && typeof related['taskId'] === 'string' ? related['taskId'] : undefined;
}

/** A Task of `server` with its id namespaced; anything without a string `taskId` is returned as is. */
export function namespaceTask(task: Params, server: string, sep: string = DefaultSeparator): Params {
  return typeof task['taskId'] === 'string'
    ? { ...task, taskId: namespaceTaskId(server, task['taskId'], sep) }
    : task;
}

/**
 * Namespaces the task ids inside a result of `method` from `server`: the Task of tasks/get and
 * tasks/cancel, the items of tasks/list, the `task` of a CreateTaskResult, and the related-task `_meta`.
 */
export function namespaceResultTasks(
  method: string,
  result: Params,
  server: string,
  sep: string = DefaultSeparator,
): Params {
  let out = withRelatedTask(result, server, sep);
  if (method === 'tasks/get' || method === 'tasks/cancel') out = namespaceTask(out, server, sep);
  else if (method === 'tasks/list' && Array.isArray(out['tasks']))
    out = {
      ...out,
      tasks: out['tasks'].map((t: unknown) => (isObject(t) ? namespaceTask(t, server, sep) : t)),
    };
  else if (!method.startsWith('tasks/') && isObject(out['task']))
    out = { ...out, task: namespaceTask(out['task'], server, sep) };
  return out;
}

/**
 * Namespaces the task ids in the params of a message of `method` from `server` (a notification or a
 * server-to-client request): the Task of notifications/tasks/status and the related-task `_meta`.
 */
export function namespaceTaskParams(
  method: string,
  params: Params | undefined,
  server: string,
  sep: string = DefaultSeparator,
): Params | undefined {
  if (!params) return params;
  const out = withRelatedTask(params, server, sep);
  return method === 'notifications/tasks/status' ? namespaceTask(out, server, sep) : out;
}

function withRelatedTask(value: Params, server: string, sep: string): Params {
  const meta = value['_meta'];
  if (!isObject(meta)) return value;
  const related = meta[RelatedTaskMetaKey];
  if (!isObject(related) || typeof related['taskId'] !== 'string') return value;
  return { ...value, _meta: { ...meta, [RelatedTaskMetaKey]: namespaceTask(related, server, sep) } };
}

function isObject(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
