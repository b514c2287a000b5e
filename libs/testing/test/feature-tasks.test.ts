/**
 * Tasks in the feature fixture: `longTask` run as a task (CreateTaskResult at once, tasks/get, the blocking
 * tasks/result, tasks/list, status notifications), cancelled by tasks/cancel, task-augmented calls of tools
 * without task support, and tasks scoped to the HTTP session that created them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, RELATED_TASK_META_KEY } from '@modelcontextprotocol/sdk/types.js';
import {
  FeatureState,
  TASK_POLL_MS,
  callToolAsTask,
  connectHttpProbe,
  createFeatureServer,
  firstText,
  pollTask,
  startFeatureServerHttp,
  structured,
  waitUntil,
  type FeatureHttpServer,
} from '../src/index';

const state = new FeatureState();
let client: Client;
const statuses: { taskId: string; status: string }[] = [];

beforeAll(async () => {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createFeatureServer({ state }).connect(serverSide);
  client = new Client({ name: 'tasks', version: '1.0.0' });
  client.fallbackNotificationHandler = async (n) => {
    if (n.method === 'notifications/tasks/status')
      statuses.push({ taskId: String(n.params?.['taskId']), status: String(n.params?.['status']) });
  };
  await client.connect(clientSide);
});
afterAll(async () => {
  await client?.close();
  state.close();
});

describe('longTask as a task', () => {
  it('lists longTask with optional task support', async () => {
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'longTask')?.execution).toEqual({ taskSupport: 'optional' });
  });

  it('answers a CreateTaskResult at once, completes in the background and gives its result', async () => {
    const started = Date.now();
    const task = await callToolAsTask(client, 'longTask', { ms: 150, tag: 'done' }, 60_000);
    expect(Date.now() - started).toBeLessThan(150);
    expect(task).toMatchObject({ status: 'working', ttl: 60_000, pollInterval: TASK_POLL_MS });
    expect(
      structured(await client.callTool({ name: 'wasCancelled', arguments: { tag: 'done' } })),
    ).toMatchObject({ outcome: 'running' });
    const done = await pollTask(client, task.taskId, ['completed']);
    expect(done.taskId).toBe(task.taskId);
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(firstText(result)).toBe('longTask done after 150 ms');
    expect(result._meta?.[RELATED_TASK_META_KEY]).toEqual({ taskId: task.taskId });
    const { tasks } = await client.experimental.tasks.listTasks();
    expect(tasks.find((t) => t.taskId === task.taskId)?.status).toBe('completed');
    await waitUntil(() => statuses.some((s) => s.taskId === task.taskId && s.status === 'completed'));
  });

  it('blocks tasks/result until the task is done', async () => {
    const task = await callToolAsTask(client, 'longTask', { ms: 120 });
    const started = Date.now();
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect(firstText(result)).toBe('longTask done after 120 ms');
  });

  it('stops the work when tasks/cancel cancels the task, and refuses to cancel it again', async () => {
    const task = await callToolAsTask(client, 'longTask', { ms: 60_000, tag: 'stop' });
    const cancelled = await client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled).toMatchObject({ taskId: task.taskId, status: 'cancelled' });
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('cancelled');
    expect(
      structured(await client.callTool({ name: 'wasCancelled', arguments: { tag: 'stop' } })),
    ).toMatchObject({ outcome: 'cancelled', cancelled: true });
    await expect(client.experimental.tasks.cancelTask(task.taskId)).rejects.toMatchObject({ code: -32602 });
  });

  it('fails the task of bad arguments and refuses tasks for tools without task support', async () => {
    const task = await callToolAsTask(client, 'longTask', { ms: 'soon' });
    expect(task.status).toBe('failed');
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result.isError).toBe(true);
    expect(firstText(result)).toMatch(/^Invalid arguments for longTask/);
    await expect(callToolAsTask(client, 'echo', { text: 'x' })).rejects.toMatchObject({ code: -32601 });
    await expect(client.experimental.tasks.getTask('no-such-task')).rejects.toMatchObject({ code: -32602 });
  });

  it('runs as a plain call without params.task', async () => {
    const result = await client.callTool({ name: 'longTask', arguments: { ms: 5 } });
    expect(firstText(result)).toBe('longTask done after 5 ms');
  });
});

describe('tasks over Streamable HTTP', () => {
  let fixture: FeatureHttpServer;
  beforeAll(async () => {
    fixture = await startFeatureServerHttp();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('keeps each session to its own tasks and sends status notifications on the GET stream', async () => {
    const [a, b] = [await connectHttpProbe(fixture.url), await connectHttpProbe(fixture.url)];
    const task = await callToolAsTask(a.client, 'longTask', { ms: 30 });
    await a.waitFor(
      (n) =>
        n.method === 'notifications/tasks/status' &&
        n.params?.['taskId'] === task.taskId &&
        n.params['status'] === 'completed',
    );
    expect((await a.client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toEqual([task.taskId]);
    expect((await b.client.experimental.tasks.listTasks()).tasks).toEqual([]);
    await expect(b.client.experimental.tasks.getTask(task.taskId)).rejects.toMatchObject({ code: -32602 });
    expect(b.count('notifications/tasks/status')).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });
});
