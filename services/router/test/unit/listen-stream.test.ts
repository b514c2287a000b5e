/**
 * The subscriptions/listen stream of a modern connection over a scripted transport: what it listens to, how
 * a new URI opens a new listen that takes over once acknowledged (the old one cancelled by notification on
 * stdio, by closing its stream on HTTP), notifications of a replaced listen dropped, refusals and missing
 * capabilities as errors, an ended HTTP listen opened again, and stop failing what waits.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type { JsonRpcMessage } from '@meshgate/contracts';
import { ListenStream } from '../../src/upstream/listen-stream';

const Capabilities = { tools: { listChanged: true }, resources: { subscribe: true } };
const SubscriptionId = 'io.modelcontextprotocol/subscriptionId';

interface Sent {
  message: Record<string, unknown>;
  signal: AbortSignal;
  end(error?: Error): void;
}

function stream(stdio: boolean, capabilities: Record<string, unknown> = Capabilities) {
  const sent: Sent[] = [];
  const listen = new ListenStream(
    {
      send: (message: JsonRpcMessage, signal) =>
        new Promise<void>((resolve, reject) => {
          sent.push({
            message: message,
            signal,
            end: (error) => (error ? reject(error) : resolve()),
          });
          // Over stdio a send is done once written.
          if (stdio) resolve();
        }),
      envelope: (params) => ({ ...params, _meta: { envelope: true } }),
      stdio,
      log: pino({ level: 'silent' }),
    },
    capabilities,
  );
  const listens = () => sent.filter((s) => s.message['method'] === 'subscriptions/listen');
  const ack = (id: string, uris: string[] = []) =>
    listen.consume({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: {
        notifications: { toolsListChanged: true, resourceSubscriptions: uris },
        _meta: { [SubscriptionId]: id },
      },
    });
  return { listen, sent, listens, ack };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('listen stream', () => {
  it('listens to the list changes the upstream offers, with the envelope', () => {
    const { listen, listens } = stream(true);
    listen.start([]);
    expect(listens().map((s) => s.message)).toEqual([
      {
        jsonrpc: '2.0',
        id: 'mg-listen-1',
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: { envelope: true } },
      },
    ]);
  });

  it('opens nothing for an upstream that offers no changes', () => {
    const { listen, sent } = stream(true, { tools: {} });
    listen.start([]);
    expect(sent).toEqual([]);
  });

  it('subscribes with a new listen that takes over once acknowledged (stdio: the old one is cancelled)', async () => {
    const { listen, sent, listens, ack } = stream(true);
    listen.start([]);
    expect(ack('mg-listen-1')).toBe(true);
    const subscribing = listen.subscribe('a://x', 5000);
    expect(listens()[1]!.message['params']).toMatchObject({
      notifications: { toolsListChanged: true, resourceSubscriptions: ['a://x'] },
    });
    // Until the new listen is acknowledged, the old one still delivers.
    const old = {
      jsonrpc: '2.0',
      method: 'notifications/tools/list_changed',
      params: { _meta: { [SubscriptionId]: 'mg-listen-1' } },
    };
    expect(listen.consume(old)).toBe(false);
    expect(old.params).toEqual({});
    ack('mg-listen-2', ['a://x']);
    expect(await subscribing).toEqual({ result: {} });
    expect(sent.at(-1)!.message).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 'mg-listen-1', reason: 'replaced', _meta: { envelope: true } },
    });
    const stale = {
      method: 'notifications/resources/updated',
      params: { uri: 'a://x', _meta: { [SubscriptionId]: 'mg-listen-1' } },
    };
    expect(listen.consume(stale)).toBe(true);
    const fresh = {
      method: 'notifications/resources/updated',
      params: { uri: 'a://x', _meta: { [SubscriptionId]: 'mg-listen-2', other: 1 } },
    };
    expect(listen.consume(fresh)).toBe(false);
    expect(fresh.params).toEqual({ uri: 'a://x', _meta: { other: 1 } });
  });

  it('closes the stream of a replaced HTTP listen, and unsubscribes with a listen without the URI', async () => {
    const { listen, listens, ack } = stream(false);
    listen.start(['a://x']);
    ack('mg-listen-1', ['a://x']);
    const leaving = listen.unsubscribe('a://x', 5000);
    expect(listens()[1]!.message['params']).toEqual({
      notifications: { toolsListChanged: true },
      _meta: { envelope: true },
    });
    ack('mg-listen-2');
    expect(await leaving).toEqual({ result: {} });
    expect(listens()[0]!.signal.aborted).toBe(true);
    expect(listens()[1]!.signal.aborted).toBe(false);
    expect(await listen.unsubscribe('a://never', 5000)).toEqual({ result: {} });
  });

  it('reports a refused listen or a URI left out of the acknowledgement as errors', async () => {
    const { listen, ack } = stream(true);
    listen.start([]);
    ack('mg-listen-1');
    const refused = listen.subscribe('a://x', 5000);
    expect(
      listen.consume({
        jsonrpc: '2.0',
        id: 'mg-listen-2',
        error: { code: -32603, message: 'Subscription limit reached' },
      }),
    ).toBe(true);
    expect(await refused).toEqual({
      error: { code: -32603, message: 'subscriptions/listen refused: Subscription limit reached' },
    });
    const ignored = listen.subscribe('a://y', 5000);
    ack('mg-listen-3', []);
    expect(await ignored).toMatchObject({
      error: { code: -32602, message: /refused a subscription to a:\/\/y/ },
    });
  });

  it('refuses subscriptions an upstream does not offer', async () => {
    const { listen } = stream(true, { tools: { listChanged: true } });
    listen.start([]);
    expect(await listen.subscribe('a://x', 5000)).toMatchObject({ error: { code: -32601 } });
  });

  it('opens an HTTP listen again after its stream ended', async () => {
    vi.useFakeTimers();
    const { listen, listens, ack } = stream(false);
    listen.start([]);
    ack('mg-listen-1');
    listens()[0]!.end(new Error('the response stream ended before the response'));
    await vi.advanceTimersByTimeAsync(999);
    expect(listens()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(listens()).toHaveLength(2);
    listen.stop('done');
  });

  it('fails what waits when it stops, and sends nothing more', async () => {
    const { listen, sent } = stream(true);
    listen.start([]);
    const waiting = listen.subscribe('a://x', 5000);
    listen.stop('upstream gone');
    expect(await waiting).toEqual({ error: { code: -32001, message: 'upstream gone' } });
    const count = sent.length;
    void listen.subscribe('a://y', 10);
    expect(sent).toHaveLength(count);
  });
});
