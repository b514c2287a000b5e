/**
 * Tool calls of agents that cannot use tasks (task-results), with the era fixture over stdio, whose `report`
 * tool requires a task and reports progress on the creating call's token: agents of 2024-11-05, 2025-03-26,
 * 2025-06-18 and 2025-11-25 without tasks get the final result and the progress on their own token, and
 * never the task; cancelling the call or letting its deadline pass cancels the task upstream; an agent that
 * uses tasks gets the task, with its progress on the session's own subject.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects, type SessionInfo, type Target } from '@meshgate/contracts';
import {
  errorOf,
  eventually,
  newSession,
  resultOf,
  startHarness,
  stdioFixture,
  uniqueName,
  type Harness,
} from './harness';

let h: Harness;
const era = uniqueName('era');

beforeAll(async () => {
  h = await startHarness();
  await h.put(stdioFixture(era, 'era'));
}, 30_000);
afterAll(async () => {
  await h?.close();
});

function session(
  target: Target,
  protocolVersion: string,
  capabilities: Record<string, unknown> = {},
): SessionInfo {
  return { ...newSession(target, capabilities), protocolVersion };
}

function newStream(): string {
  return Subjects.ingressStream('ingress-test', `t${Date.now()}${Math.random().toString(36).slice(2, 8)}`);
}

/** The statuses of every task the era fixture holds. */
async function taskStatuses(): Promise<string[]> {
  const probe = session({ kind: 'server', server: era }, '2025-11-25');
  const out = resultOf(await h.call(probe, 'tools/call', { name: 'tasks' }));
  return JSON.parse((out['content'] as { text: string }[])[0]!.text) as string[];
}

const count = (list: string[], status: string) => list.filter((s) => s === status).length;

describe('an agent that cannot use tasks', () => {
  const cases: [string, Target, string][] = [
    ['2025-06-18', { kind: 'server', server: era }, 'report'],
    ['2025-03-26', { kind: 'federated' }, `${era}__report`],
    ['2025-11-25', { kind: 'server', server: era }, 'report'],
  ];
  for (const [version, target, tool] of cases)
    it(`gets the final result and progress on its own token (${version}, ${target.kind})`, async () => {
      const s = session(target, version, { sampling: {} });
      const stream = newStream();
      const onStream = h.collect(stream);
      const toAgent = h.collect(Subjects.sessionToAgent(s.id));
      const reply = await h.call(
        s,
        'tools/call',
        { name: tool, arguments: { steps: 3, ms: 40 }, _meta: { progressToken: 'p-1' } },
        { stream },
      );
      const result = resultOf(reply);
      expect(result['content']).toEqual([{ type: 'text', text: 'reported 3 steps' }]);
      expect(result['structuredContent']).toEqual(version < '2025-06-18' ? undefined : { steps: 3 });
      expect(result['_meta']).toBeUndefined();
      expect(result['task']).toBeUndefined();
      expect(onStream.messages.map((m) => m['params'])).toEqual(
        [1, 2, 3].map((progress) => ({
          progressToken: 'p-1',
          progress,
          total: 3,
          message: `step ${progress}`,
        })),
      );
      expect(toAgent.messages).toEqual([]);
    });

  it('gets progress without its message in 2024-11-05, and a task-augmented request still ends in a result', async () => {
    const s = session({ kind: 'server', server: era }, '2024-11-05', { sampling: {} });
    const stream = newStream();
    const onStream = h.collect(stream);
    const reply = await h.call(
      s,
      'tools/call',
      { name: 'report', arguments: { steps: 2, ms: 20 }, task: { ttl: 1000 }, _meta: { progressToken: 7 } },
      { stream },
    );
    expect(resultOf(reply)).toEqual({ content: [{ type: 'text', text: 'reported 2 steps' }] });
    expect(onStream.messages.map((m) => m['params'])).toEqual([
      { progressToken: 7, progress: 1, total: 2 },
      { progressToken: 7, progress: 2, total: 2 },
    ]);
  });

  it("is asked what the task needs on its call's stream, never seeing the task", async () => {
    const s = session({ kind: 'federated' }, '2025-06-18', { elicitation: {} });
    const stream = newStream();
    const onStream = h.collect(stream);
    const toAgent = h.collect(Subjects.sessionToAgent(s.id));
    const calling = h.call(s, 'tools/call', { name: `${era}__confirm`, arguments: {} }, { stream });
    const request = await eventually(() =>
      onStream.messages.find((m) => m['method'] === 'elicitation/create'),
    );
    expect(request['params']).toEqual({
      message: 'Go ahead?',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean', default: true } } },
    });
    h.bus.publish(Subjects.routerToUpstream(h.router.instanceId), {
      v: 1,
      sessionId: s.id,
      message: { jsonrpc: '2.0', id: request['id'], result: { action: 'accept', content: { ok: false } } },
    });
    expect(resultOf(await calling)).toEqual({
      content: [{ type: 'text', text: 'confirmed: accept {"ok":false}' }],
    });
    expect(toAgent.messages).toEqual([]);
  });

  it('cancels the task upstream when it cancels its call', async () => {
    const before = count(await taskStatuses(), 'cancelled');
    const s = session({ kind: 'server', server: era }, '2025-06-18');
    const stream = newStream();
    const onStream = h.collect(stream);
    const calling = h.call(
      s,
      'tools/call',
      { name: 'report', arguments: { steps: 200, ms: 30 }, _meta: { progressToken: 'c' } },
      { id: 'cancel-me', stream },
    );
    await eventually(() => onStream.messages.length > 0);
    h.bus.publish(Subjects.sessionToUpstream(s.id), {
      v: 1,
      sessionId: s.id,
      message: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'cancel-me' } },
    });
    expect(errorOf(await calling)).toEqual({ code: -32800, message: 'request cancelled' });
    await eventually(async () => count(await taskStatuses(), 'cancelled') === before + 1);
  });

  it('answers a timeout before its deadline and cancels the task upstream', async () => {
    const before = count(await taskStatuses(), 'cancelled');
    const s = session({ kind: 'server', server: era }, '2025-06-18');
    const reply = await h.call(
      s,
      'tools/call',
      { name: 'report', arguments: { steps: 200, ms: 30 } },
      { timeoutMs: 1500 },
    );
    expect(errorOf(reply)).toEqual({
      code: -32003,
      message: 'tools/call: the task of report did not end in time',
    });
    await eventually(async () => count(await taskStatuses(), 'cancelled') === before + 1);
  });
});

describe('an agent that uses tasks', () => {
  it('gets the task itself, the progress on its session subject, and the result by tasks/result', async () => {
    const s = session({ kind: 'server', server: era }, '2025-11-25', { tasks: { list: {}, cancel: {} } });
    const toAgent = h.collect(Subjects.sessionToAgent(s.id));
    const created = resultOf(
      await h.call(s, 'tools/call', {
        name: 'report',
        arguments: { steps: 2, ms: 30 },
        task: { ttl: 60_000 },
        _meta: { progressToken: 'mine' },
      }),
    );
    const taskId = (created['task'] as { taskId: string }).taskId;
    expect(taskId).toMatch(/^[0-9a-f]{32}$/);
    const result = resultOf(await h.call(s, 'tasks/result', { taskId }));
    expect(result).toMatchObject({ structuredContent: { steps: 2 } });
    await eventually(() =>
      toAgent.messages.filter((m) => m['method'] === 'notifications/progress').length === 2
        ? true
        : undefined,
    );
    expect(
      toAgent.messages.filter((m) => m['method'] === 'notifications/progress').map((m) => m['params']),
    ).toEqual(
      [1, 2].map((progress) => ({ progressToken: 'mine', progress, total: 2, message: `step ${progress}` })),
    );
  });

  it('gets the upstream answer unchanged when it calls a task-only tool without a task', async () => {
    const s = session({ kind: 'server', server: era }, '2025-11-25', { tasks: { list: {} } });
    expect(errorOf(await h.call(s, 'tools/call', { name: 'report', arguments: {} }))).toMatchObject({
      code: -32601,
    });
  });
});
