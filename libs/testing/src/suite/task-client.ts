/**
 * Client-side helpers for MCP tasks (2025-11-25, experimental SEP-1686) over an SDK `Client`: start a
 * task-augmented tool call and poll tasks/get until the task reaches a status. The rest (tasks/result,
 * tasks/list, tasks/cancel) is the SDK's own `client.experimental.tasks` API.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateTaskResultSchema, type Task, type TaskStatus } from '@modelcontextprotocol/sdk/types.js';

/** Calls tool `name` with `params.task`; resolves with the task the server created. */
export async function callToolAsTask(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
  ttl?: number,
): Promise<Task> {
  const created = await client.request(
    {
      method: 'tools/call',
      params: { name, arguments: args, task: ttl === undefined ? {} : { ttl } },
    },
    CreateTaskResultSchema,
  );
  return created.task;
}

/**
 * Polls tasks/get for `taskId` (at the task's own poll interval, 10 ms at least) until its status is one
 * of `statuses`; resolves with that task, rejects after `timeoutMs` or when it ends in another status.
 */
export async function pollTask(
  client: Client,
  taskId: string,
  statuses: readonly TaskStatus[],
  timeoutMs = 5000,
): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await client.experimental.tasks.getTask(taskId);
    if (statuses.includes(task.status)) return task;
    if (['completed', 'failed', 'cancelled'].includes(task.status))
      throw new Error(`task ${taskId} ended ${task.status}, expected ${statuses.join(' or ')}`);
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${task.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(10, task.pollInterval ?? 50)));
  }
}
