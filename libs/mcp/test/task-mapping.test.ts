import { describe, expect, it } from 'vitest';
import { namespaceTaskId, splitTaskId } from '../src/namespacing';
import {
  createdTaskId,
  declaresTaskList,
  isTaskIdMethod,
  namespaceResultTasks,
  namespaceTaskParams,
  relatedTaskId,
} from '../src/task-mapping';
import {
  namespaceNotificationParams,
  namespaceResult,
  routeRequest,
  unknownTargetError,
} from '../src/request-mapping';

const related = (taskId: string) => ({ 'io.modelcontextprotocol/related-task': { taskId } });

describe('task ids', () => {
  it('namespace with the separator and split back at the first one', () => {
    expect(namespaceTaskId('fx', 'a1b2')).toBe('fx__a1b2');
    expect(namespaceTaskId('fx', 'a1b2', '.')).toBe('fx.a1b2');
    expect(splitTaskId('fx__a__b')).toEqual({ server: 'fx', name: 'a__b' });
    expect(splitTaskId('fx.t-1', '.')).toEqual({ server: 'fx', name: 't-1' });
    expect(splitTaskId('a1b2')).toBeNull();
    expect(splitTaskId('fx__')).toBeNull();
  });

  it('route tasks/get, tasks/result and tasks/cancel to their server with the upstream id', () => {
    for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
      expect(isTaskIdMethod(method)).toBe(true);
      expect(routeRequest(method, { taskId: 'fx__t1', _meta: { k: 1 } })).toEqual({
        server: 'fx',
        params: { taskId: 't1', _meta: { k: 1 } },
      });
    }
    expect(isTaskIdMethod('tasks/list')).toBe(false);
    expect(routeRequest('tasks/get', { taskId: 'fx|t1' }, '|')).toEqual({
      server: 'fx',
      params: { taskId: 't1' },
    });
  });

  it('answer -32602 for task ids that name no server', () => {
    expect(routeRequest('tasks/get', { taskId: 't1' })).toEqual({
      error: { code: -32602, message: 'unknown task: t1' },
    });
    expect(routeRequest('tasks/cancel', { taskId: 7 })).toEqual({
      error: { code: -32602, message: 'unknown task: 7' },
    });
    expect(unknownTargetError('tasks/result', {})).toEqual({
      code: -32602,
      message: 'unknown task: (missing)',
    });
  });
});

describe('task ids in results', () => {
  const task = { taskId: 't1', status: 'working', ttl: null, createdAt: 'c', lastUpdatedAt: 'u' };

  it('namespaces the task of a CreateTaskResult, keeping every other field', () => {
    const created = { task, _meta: { 'io.modelcontextprotocol/model-immediate-response': 'soon' } };
    expect(createdTaskId(created)).toBe('t1');
    expect(namespaceResult('tools/call', created, 'fx')).toEqual({
      task: { ...task, taskId: 'fx__t1' },
      _meta: { 'io.modelcontextprotocol/model-immediate-response': 'soon' },
    });
    expect(created.task.taskId).toBe('t1');
    expect(createdTaskId({ content: [] })).toBeUndefined();
  });

  it('namespaces the Task of tasks/get and tasks/cancel and every item of tasks/list', () => {
    expect(namespaceResultTasks('tasks/get', task, 'fx', '.')).toEqual({ ...task, taskId: 'fx.t1' });
    expect(namespaceResultTasks('tasks/cancel', { ...task, status: 'cancelled' }, 'fx')).toMatchObject({
      taskId: 'fx__t1',
      status: 'cancelled',
    });
    expect(
      namespaceResultTasks(
        'tasks/list',
        { tasks: [task, { ...task, taskId: 't2' }], nextCursor: 't2' },
        'fx',
      ),
    ).toEqual({
      tasks: [
        { ...task, taskId: 'fx__t1' },
        { ...task, taskId: 'fx__t2' },
      ],
      nextCursor: 't2',
    });
  });

  it('namespaces the related task and the resource URIs of a tasks/result payload', () => {
    const payload = {
      content: [{ type: 'resource_link', uri: 'fixture://text', name: 'text' }],
      _meta: related('t1'),
    };
    expect(namespaceResult('tasks/result', payload, 'fx')).toEqual({
      content: [{ type: 'resource_link', uri: 'fx+fixture://text', name: 'text' }],
      _meta: related('fx__t1'),
    });
    expect(namespaceResult('tasks/result', { content: [] }, 'fx')).toEqual({ content: [] });
  });
});

describe('task ids in notifications and server-to-client requests', () => {
  it('namespaces notifications/tasks/status and related-task _meta of any message', () => {
    expect(
      namespaceNotificationParams('notifications/tasks/status', { taskId: 't1', status: 'completed' }, 'fx'),
    ).toEqual({ taskId: 'fx__t1', status: 'completed' });
    expect(
      namespaceNotificationParams('notifications/message', { level: 'info', _meta: related('t1') }, 'fx'),
    ).toEqual({ level: 'info', _meta: related('fx__t1') });
    expect(
      namespaceTaskParams('elicitation/create', { message: 'm', _meta: related('t1') }, 'fx', '.'),
    ).toEqual({ message: 'm', _meta: related('fx.t1') });
    expect(namespaceTaskParams('elicitation/create', { message: 'm' }, 'fx')).toEqual({ message: 'm' });
    expect(namespaceTaskParams('notifications/tasks/status', undefined, 'fx')).toBeUndefined();
  });
});

describe('relatedTaskId', () => {
  it('names the task of a status notification or of related-task _meta', () => {
    expect(relatedTaskId('notifications/tasks/status', { taskId: 't1', status: 'working' })).toBe('t1');
    expect(relatedTaskId('notifications/tasks/status', { _meta: related('t2') })).toBeUndefined();
    expect(relatedTaskId('elicitation/create', { message: 'm', _meta: related('t2') })).toBe('t2');
    expect(relatedTaskId('notifications/message', { level: 'info' })).toBeUndefined();
    expect(relatedTaskId('notifications/message', undefined)).toBeUndefined();
  });
});

describe('tasks capability', () => {
  it('tells servers that declare tasks/list', () => {
    expect(declaresTaskList({ tasks: { list: {} } })).toBe(true);
    expect(declaresTaskList({ tasks: { requests: {} } })).toBe(false);
    expect(declaresTaskList({ tools: {} })).toBe(false);
    expect(declaresTaskList(undefined)).toBe(false);
  });
});
