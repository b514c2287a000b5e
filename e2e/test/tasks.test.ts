/**
 * MCP tasks (2025-11-25, experimental SEP-1686) through a whole in-process gateway: an SDK client runs the
 * feature fixture's `longTask` as a task through ingress -> NATS -> router -> upstream, with the fixture
 * over Streamable HTTP (`fx`) and over stdio (`fxs`), on the per-server endpoints (task ids unchanged) and
 * on the federated endpoint (tools and task ids namespaced `<server>__<id>`): polls tasks/get until the task
 * completes, gets tasks/result, lists tasks, gets the status notification, streams a task with the SDK's
 * callToolStream, and cancels a second task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallToolResultSchema, RELATED_TASK_META_KEY } from '@modelcontextprotocol/sdk/types.js';
import {
  TASKS_CAPABILITY,
  callToolAsTask,
  connectHttpProbe,
  featureServerStdioCommand,
  firstText,
  pollTask,
  startFeatureServerHttp,
  type FeatureHttpServer,
  type Probe,
} from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

let gateway: Gateway;
let fixtureHttp: FeatureHttpServer;

beforeAll(async () => {
  fixtureHttp = await startFeatureServerHttp();
  const stdio = featureServerStdioCommand();
  gateway = await startGateway({
    servers: {
      fx: { url: fixtureHttp.url, type: 'http' },
      fxs: { command: stdio.command, args: stdio.args },
    },
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fixtureHttp?.close();
});

const url = (path: string) => `${gateway.ingress[0]!.url}${path}`;

/** Each endpoint under test: its path, the tool name it shows, and the task ids it shows. */
const endpoints = [
  {
    title: 'per-server endpoint, Streamable HTTP upstream',
    path: '/servers/fx/mcp',
    tool: 'longTask',
    ids: /^[0-9a-f]{32}$/,
  },
  {
    title: 'per-server endpoint, stdio upstream',
    path: '/servers/fxs/mcp',
    tool: 'longTask',
    ids: /^[0-9a-f]{32}$/,
  },
  {
    title: 'federated endpoint, Streamable HTTP upstream',
    path: '/mcp',
    tool: 'fx__longTask',
    ids: /^fx__[0-9a-f]{32}$/,
  },
  {
    title: 'federated endpoint, stdio upstream',
    path: '/mcp',
    tool: 'fxs__longTask',
    ids: /^fxs__[0-9a-f]{32}$/,
  },
];

for (const { title, path, tool, ids } of endpoints) {
  describe(title, () => {
    let probe: Probe;
    beforeAll(async () => {
      probe = await connectHttpProbe(url(path));
    });
    afterAll(async () => {
      await probe?.close();
    });

    it('declares tasks and lists the tool with optional task support', async () => {
      expect(probe.client.getServerCapabilities()?.tasks).toEqual(TASKS_CAPABILITY);
      const { tools } = await probe.client.listTools();
      expect(tools.find((t) => t.name === tool)?.execution).toEqual({ taskSupport: 'optional' });
    });

    it('runs a task: tasks/get until completed, tasks/result, tasks/list and the status notification', async () => {
      const task = await callToolAsTask(probe.client, tool, { ms: 150 }, 60_000);
      expect(task.taskId).toMatch(ids);
      expect(task.status).toBe('working');
      const done = await pollTask(probe.client, task.taskId, ['completed']);
      expect(done).toMatchObject({ taskId: task.taskId, ttl: 60_000 });
      const result = await probe.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
      expect(firstText(result)).toBe('longTask done after 150 ms');
      expect(result._meta?.[RELATED_TASK_META_KEY]).toEqual({ taskId: task.taskId });
      const { tasks } = await probe.client.experimental.tasks.listTasks();
      expect(tasks.find((t) => t.taskId === task.taskId)?.status).toBe('completed');
      await probe.waitFor(
        (n) =>
          n.method === 'notifications/tasks/status' &&
          n.params?.['taskId'] === task.taskId &&
          n.params['status'] === 'completed',
      );
    });

    it("streams a task with the SDK's callToolStream", async () => {
      const stream = probe.client.experimental.tasks.callToolStream(
        { name: tool, arguments: { ms: 60 } },
        CallToolResultSchema,
        { task: { ttl: 60_000 } },
      );
      const kinds: string[] = [];
      let text = '';
      for await (const message of stream) {
        kinds.push(message.type);
        if (message.type === 'taskCreated') expect(message.task.taskId).toMatch(ids);
        if (message.type === 'error') throw message.error;
        if (message.type === 'result') text = firstText(message.result);
      }
      expect(kinds[0]).toBe('taskCreated');
      expect(kinds.at(-1)).toBe('result');
      expect(text).toBe('longTask done after 60 ms');
    });

    it('cancels a second task and sees it cancelled', async () => {
      const task = await callToolAsTask(probe.client, tool, { ms: 60_000 });
      const cancelled = await probe.client.experimental.tasks.cancelTask(task.taskId);
      expect(cancelled).toMatchObject({ taskId: task.taskId, status: 'cancelled' });
      expect(await pollTask(probe.client, task.taskId, ['cancelled'])).toMatchObject({ status: 'cancelled' });
      const { tasks } = await probe.client.experimental.tasks.listTasks();
      expect(tasks.find((t) => t.taskId === task.taskId)?.status).toBe('cancelled');
    });

    it('answers an unknown task id with -32602', async () => {
      await expect(
        probe.client.experimental.tasks.getTask(`${tool.replace('longTask', '')}nope`),
      ).rejects.toMatchObject({
        code: -32602,
      });
    });
  });
}
