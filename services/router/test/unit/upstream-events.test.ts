/**
 * Who gets what an upstream sends on its own (upstream-events): messages that may belong to one session's
 * call never reach other sessions, and server-to-client requests reach only agents able to answer them.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Subjects } from '@meshgate/contracts';
import { upstreamEvents } from '../../src/upstream-events';
import { ServerRequests } from '../../src/server-requests';
import { Sessions } from '../../src/sessions';
import type { UpstreamConnection } from '../../src/upstream/connection';
import type { Outcome } from '../../src/upstream/relay-table';
import { SubscriptionBook } from '../../src/upstream/subscription-book';
import { TaskBook } from '../../src/upstream/task-book';

const log = pino({ level: 'silent' });
const sid = (n: number) => `session-${String(n).padStart(12, '0')}`;

function setup(clientCapabilities: Record<string, unknown> = { sampling: {}, elicitation: {} }) {
  const sessions = new Sessions();
  for (const n of [1, 2, 3])
    sessions.remember({
      id: sid(n),
      protocolVersion: '2025-11-25',
      clientCapabilities,
      target: { kind: 'server', server: 'srv' },
      principal: { tenant: 'default', id: 'events-test', kind: 'agent', roles: ['agent'], groups: [] },
    });
  const published: { subject: string; message: Record<string, unknown> }[] = [];
  const publish = (subject: string, message: Record<string, unknown>) => published.push({ subject, message });
  const serverRequests = new ServerRequests('r1', publish, log);
  const answers: { id: unknown; outcome: Outcome }[] = [];
  const conn = {
    server: 'srv',
    owner: undefined,
    def: { timeoutMs: 60_000 },
    tasks: new TaskBook(),
    subscriptions: new SubscriptionBook(),
    respond: (id: unknown, outcome: Outcome) => answers.push({ id, outcome }),
  } as unknown as UpstreamConnection;
  const hooks = upstreamEvents({ sessions, serverRequests, publish, log, separator: '__' });
  return { hooks, conn, published, answers, serverRequests, sessions };
}

describe('upstream events', () => {
  it('relays no log while calls of several sessions are in flight on a shared connection', () => {
    const { hooks, conn, published } = setup();
    const log = {
      jsonrpc: '2.0' as const,
      method: 'notifications/message',
      params: { level: 'info', data: 'x' },
    };
    hooks.notification(conn, log, { kind: 'ambiguous', sessionIds: [sid(1), sid(2)] });
    expect(published).toEqual([]);
    hooks.notification(conn, log, { kind: 'session', sessionId: sid(1) });
    expect(published.map((p) => p.subject)).toEqual([Subjects.sessionToAgent(sid(1))]);
  });

  it('still tells every session using the upstream that a list changed', () => {
    const { hooks, conn, published } = setup();
    const changed = { jsonrpc: '2.0' as const, method: 'notifications/tools/list_changed' };
    hooks.notification(conn, changed, { kind: 'ambiguous', sessionIds: [sid(1), sid(2)] });
    expect(published).toHaveLength(3);
  });

  it('asks an agent that declared form elicitation only for a URL elicitation as a form carrying the URL', () => {
    const { hooks, conn, published, answers, serverRequests } = setup({ elicitation: {} });
    const request = {
      jsonrpc: '2.0' as const,
      id: 9,
      method: 'elicitation/create',
      params: { mode: 'url', url: 'https://example.com/login', elicitationId: 'e1', message: 'sign in' },
    };
    hooks.serverRequest(conn, request, { kind: 'session', sessionId: sid(1) });
    expect(published).toEqual([
      {
        subject: Subjects.sessionToAgent(sid(1)),
        message: {
          jsonrpc: '2.0',
          id: 'mg:r1:1',
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message:
              'sign in\n\nOpen this link (on example.com) to continue, then accept: https://example.com/login',
            requestedSchema: { type: 'object', properties: {} },
          },
        },
      },
    ]);
    serverRequests.answer({
      v: 1,
      sessionId: sid(1),
      message: { jsonrpc: '2.0', id: 'mg:r1:1', result: { action: 'accept', content: {} } },
    });
    expect(answers).toEqual([{ id: 9, outcome: { result: { action: 'accept' } } }]);
    // The completion of that URL elicitation means nothing to this agent.
    hooks.notification(
      conn,
      { jsonrpc: '2.0', method: 'notifications/elicitation/complete', params: { elicitationId: 'e1' } },
      { kind: 'session', sessionId: sid(1) },
    );
    expect(published).toHaveLength(1);
  });

  it('answers upstream for an agent whose era has no elicitation, and relays nothing', () => {
    const { hooks, conn, published, answers, sessions } = setup({ elicitation: {}, sampling: {} });
    sessions.get(sid(2))!.info.protocolVersion = '2025-03-26';
    const request = {
      jsonrpc: '2.0' as const,
      id: 5,
      method: 'elicitation/create',
      params: { message: 'name?', requestedSchema: { type: 'object', properties: {} } },
    };
    hooks.serverRequest(conn, request, { kind: 'session', sessionId: sid(2) });
    expect(published).toEqual([]);
    expect(answers).toEqual([
      {
        id: 5,
        outcome: {
          error: { code: -32601, message: "the client's protocol version 2025-03-26 has no elicitation" },
        },
      },
    ]);
  });

  it('drops task status for agents before 2025-11-25 and the progress message for 2024-11-05', () => {
    const { hooks, conn, published, sessions } = setup();
    conn.tasks.record('t1', sid(1));
    sessions.get(sid(1))!.info.protocolVersion = '2024-11-05';
    hooks.notification(
      conn,
      { jsonrpc: '2.0', method: 'notifications/tasks/status', params: { taskId: 't1', status: 'working' } },
      { kind: 'none' },
    );
    expect(published).toEqual([]);
    hooks.notification(
      conn,
      {
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 'p', progress: 1, message: 'half' },
      },
      { kind: 'session', sessionId: sid(1) },
    );
    expect(published.map((p) => p.message['params'])).toEqual([{ progressToken: 'p', progress: 1 }]);
  });
});
