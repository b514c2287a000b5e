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
  return { hooks, conn, published, answers, serverRequests };
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

  it('refuses upstream a URL elicitation for an agent that declared form elicitation only', () => {
    const { hooks, conn, published, answers } = setup({ elicitation: {} });
    const request = {
      jsonrpc: '2.0' as const,
      id: 9,
      method: 'elicitation/create',
      params: { mode: 'url', url: 'https://example.com/login', elicitationId: 'e1', message: 'sign in' },
    };
    hooks.serverRequest(conn, request, { kind: 'session', sessionId: sid(1) });
    expect(published).toEqual([]);
    expect(answers).toMatchObject([{ id: 9, outcome: { error: { message: /url elicitation/ } } }]);
  });
});
