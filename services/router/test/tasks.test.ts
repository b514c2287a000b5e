/**
 * Tasks (MCP 2025-11-25, experimental SEP-1686) through the router, with the feature fixture of
 * @meshgate/testing over stdio and Streamable HTTP: task-augmented tools/call, tasks/get|result|list|cancel
 * and notifications/tasks/status pass unchanged on the per-server endpoint and with namespaced task ids on
 * the federated one; sessions sharing an upstream connection reach only their own tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects, type SessionInfo } from '@meshgate/contracts';
import {
  TASKS_CAPABILITY,
  featureServerStdioCommand,
  startFeatureServerHttp,
  type FeatureHttpServer,
} from '@meshgate/testing';
import { errorOf, eventually, newSession, resultOf, startHarness, uniqueName, type Harness } from './harness';

let h: Harness;
let fixture: FeatureHttpServer;
const fxs = uniqueName('fxs');
const fxh = uniqueName('fxh');
const related = (taskId: string) => ({ 'io.modelcontextprotocol/related-task': { taskId } });

beforeAll(async () => {
  fixture = await startFeatureServerHttp();
  h = await startHarness();
  const { command, args } = featureServerStdioCommand();
  await h.put({ name: fxs, transport: 'stdio', command, args });
  await h.put({ name: fxh, transport: 'streamable-http', url: fixture.url });
}, 30_000);
afterAll(async () => {
  await h?.close();
  await fixture?.close();
});

type Task = { taskId: string; status: string } & Record<string, unknown>;

async function startTask(s: SessionInfo, tool: string, args: Record<string, unknown>): Promise<Task> {
  const created = resultOf(
    await h.call(s, 'tools/call', { name: tool, arguments: args, task: { ttl: 60_000 } }),
  );
  return created['task'] as Task;
}

function untilStatus(s: SessionInfo, taskId: string, status: string): Promise<Task> {
  return eventually(async () => {
    const task = resultOf(await h.call(s, 'tasks/get', { taskId })) as Task;
    return task.status === status ? task : undefined;
  });
}

for (const server of [fxs, fxh]) {
  describe(`per-server endpoint, ${server.startsWith('fxs') ? 'stdio' : 'Streamable HTTP'} upstream`, () => {
    const session = () => newSession({ kind: 'server', server });

    it('passes the tasks capability and a task run through unchanged', async () => {
      const s = session();
      const init = resultOf(await h.call(s, 'initialize', { protocolVersion: '2025-11-25' }));
      expect((init['capabilities'] as Record<string, unknown>)['tasks']).toEqual(TASKS_CAPABILITY);
      const notices = h.collect(Subjects.sessionToAgent(s.id));
      const task = await startTask(s, 'longTask', { ms: 100 });
      expect(task).toMatchObject({ taskId: expect.stringMatching(/^[0-9a-f]{32}$/), status: 'working' });
      expect(await untilStatus(s, task.taskId, 'completed')).toMatchObject({
        taskId: task.taskId,
        ttl: 60_000,
      });
      expect(resultOf(await h.call(s, 'tasks/result', { taskId: task.taskId }))).toEqual({
        content: [{ type: 'text', text: 'longTask done after 100 ms' }],
        _meta: related(task.taskId),
      });
      const listed = resultOf(await h.call(s, 'tasks/list'))['tasks'] as Task[];
      expect(listed.map((t) => t.taskId)).toContain(task.taskId);
      await eventually(() =>
        notices.messages.some(
          (m) =>
            m['method'] === 'notifications/tasks/status' &&
            JSON.stringify(m['params']).includes(`"taskId":"${task.taskId}","status":"completed"`),
        ),
      );
    });

    it('cancels a task with tasks/cancel', async () => {
      const s = session();
      const task = await startTask(s, 'longTask', { ms: 60_000 });
      expect(resultOf(await h.call(s, 'tasks/cancel', { taskId: task.taskId }))).toMatchObject({
        taskId: task.taskId,
        status: 'cancelled',
      });
      expect(resultOf(await h.call(s, 'tasks/get', { taskId: task.taskId }))['status']).toBe('cancelled');
    });

    it("keeps a session sharing the connection away from another session's tasks", async () => {
      const [mine, other] = [session(), session()];
      const mineSees = h.collect(Subjects.sessionToAgent(mine.id));
      const otherSees = h.collect(Subjects.sessionToAgent(other.id));
      resultOf(await h.call(other, 'ping'));
      const task = await startTask(mine, 'longTask', { ms: 30 });
      await untilStatus(mine, task.taskId, 'completed');
      await eventually(() => mineSees.messages.some((m) => m['method'] === 'notifications/tasks/status'));
      for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel'])
        expect(errorOf(await h.call(other, method, { taskId: task.taskId }))).toEqual({
          code: -32602,
          message: `unknown task: ${task.taskId}`,
        });
      const listed = resultOf(await h.call(other, 'tasks/list'))['tasks'] as Task[];
      expect(listed.map((t) => t.taskId)).not.toContain(task.taskId);
      expect(otherSees.messages.filter((m) => m['method'] === 'notifications/tasks/status')).toEqual([]);
    });
  });
}

describe('federated endpoint', () => {
  const fed = () => newSession({ kind: 'federated' });

  it('declares tasks when an upstream does', async () => {
    const init = resultOf(await h.call(fed(), 'initialize', { protocolVersion: '2025-11-25' }));
    expect((init['capabilities'] as Record<string, unknown>)['tasks']).toEqual(TASKS_CAPABILITY);
  });

  it('namespaces task ids in results and notifications and routes them back', async () => {
    const s = fed();
    const notices = h.collect(Subjects.sessionToAgent(s.id));
    const onStdio = await startTask(s, `${fxs}__longTask`, { ms: 80 });
    const onHttp = await startTask(s, `${fxh}__longTask`, { ms: 80 });
    expect(onStdio.taskId).toMatch(new RegExp(`^${fxs}__[0-9a-f]{32}$`));
    expect(onHttp.taskId).toMatch(new RegExp(`^${fxh}__[0-9a-f]{32}$`));
    expect((await untilStatus(s, onStdio.taskId, 'completed')).taskId).toBe(onStdio.taskId);
    expect(resultOf(await h.call(s, 'tasks/result', { taskId: onHttp.taskId }))).toEqual({
      content: [{ type: 'text', text: 'longTask done after 80 ms' }],
      _meta: related(onHttp.taskId),
    });
    const listed = resultOf(await h.call(s, 'tasks/list'))['tasks'] as Task[];
    expect(listed.map((t) => t.taskId).sort()).toEqual([onStdio.taskId, onHttp.taskId].sort());
    await eventually(() =>
      [onStdio, onHttp].every((t) =>
        notices.messages.some(
          (m) =>
            m['method'] === 'notifications/tasks/status' &&
            (m['params'] as Task).taskId === t.taskId &&
            (m['params'] as Task).status === 'completed',
        ),
      ),
    );
  });

  it('cancels by namespaced id and answers -32602 for unknown or foreign task ids', async () => {
    const s = fed();
    const task = await startTask(s, `${fxh}__longTask`, { ms: 60_000 });
    expect(resultOf(await h.call(s, 'tasks/cancel', { taskId: task.taskId }))).toMatchObject({
      taskId: task.taskId,
      status: 'cancelled',
    });
    expect(resultOf(await h.call(s, 'tasks/get', { taskId: task.taskId }))['status']).toBe('cancelled');
    const perServer = newSession({ kind: 'server', server: fxh });
    const foreign = await startTask(perServer, 'longTask', { ms: 30 });
    for (const taskId of [`${fxh}__${foreign.taskId}`, `${fxh}__nope`, foreign.taskId, 'ghost__x'])
      expect(errorOf(await h.call(s, 'tasks/get', { taskId }))).toEqual({
        code: -32602,
        message: `unknown task: ${taskId}`,
      });
  });
});
