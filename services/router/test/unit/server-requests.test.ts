import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ServerRequests } from '../../src/server-requests';
import type { UpstreamConnection } from '../../src/upstream/connection';
import type { Outcome } from '../../src/upstream/relay-table';

function fakeConnection(timeoutMs = 60_000) {
  const answers: { id: unknown; outcome: Outcome }[] = [];
  const conn = {
    def: { timeoutMs },
    respond: (id: unknown, outcome: Outcome) => answers.push({ id, outcome }),
  };
  return { conn: conn as unknown as UpstreamConnection, answers };
}

function setup() {
  const published: { subject: string; message: Record<string, unknown> }[] = [];
  const requests = new ServerRequests(
    'r1',
    (subject, message) => published.push({ subject, message }),
    pino({ level: 'silent' }),
  );
  return { requests, published };
}

const sampling = {
  jsonrpc: '2.0' as const,
  id: 41,
  method: 'sampling/createMessage',
  params: { maxTokens: 3 },
};

describe('ServerRequests', () => {
  it('relays with a gateway id and maps the answer back to the upstream id', () => {
    const { requests, published } = setup();
    const { conn, answers } = fakeConnection();
    requests.relay(conn, sampling, 'sess-1', 'mg.v1.ingress.i.stream.t');
    expect(published).toEqual([
      { subject: 'mg.v1.ingress.i.stream.t', message: { ...sampling, id: 'mg:r1:1' } },
    ]);
    requests.answer({
      v: 1,
      sessionId: 'sess-1',
      message: { jsonrpc: '2.0', id: 'mg:r1:1', result: { model: 'm' } },
    });
    expect(answers).toEqual([{ id: 41, outcome: { result: { model: 'm' } } }]);
    requests.answer({ v: 1, sessionId: 'sess-1', message: { jsonrpc: '2.0', id: 'mg:r1:1', result: {} } });
    expect(answers).toHaveLength(1);
  });

  it('ignores an answer from another session', () => {
    const { requests } = setup();
    const { conn, answers } = fakeConnection();
    requests.relay(conn, sampling, 'sess-1', 'x');
    requests.answer({ v: 1, sessionId: 'sess-2', message: { jsonrpc: '2.0', id: 'mg:r1:1', result: {} } });
    expect(answers).toEqual([]);
    requests.clear();
  });

  it('tells the agent when the upstream cancels, with the gateway id', () => {
    const { requests, published } = setup();
    const { conn } = fakeConnection();
    requests.relay(conn, sampling, 'sess-1', 'sub');
    requests.upstreamCancelled(conn, 41, 'changed my mind');
    expect(published[1]).toEqual({
      subject: 'sub',
      message: {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 'mg:r1:1', reason: 'changed my mind' },
      },
    });
  });

  it('answers the upstream with an error when the session ends or the agent is too slow', async () => {
    const { requests, published } = setup();
    const { conn, answers } = fakeConnection(50);
    requests.relay(conn, sampling, 'sess-1', 'a');
    requests.relay(conn, { ...sampling, id: 42 }, 'sess-2', 'b');
    requests.dropSession('sess-1');
    expect(answers[0]).toMatchObject({ id: 41, outcome: { error: { message: 'the client session ended' } } });
    await new Promise((r) => setTimeout(r, 80));
    expect(answers[1]).toMatchObject({ id: 42, outcome: { error: { code: -32003 } } });
    expect(published.at(-1)?.message).toMatchObject({
      method: 'notifications/cancelled',
      params: { requestId: 'mg:r1:2' },
    });
  });
});
