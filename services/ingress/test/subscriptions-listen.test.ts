/**
 * `subscriptions/listen` of 2026-07-28 agents with the fake router: the acknowledgement with the honoured
 * filter and the subscription id, upstream subscriptions in a session of the listen's own, only the
 * notifications asked for (stamped), the end of the listen's session when the agent closes the stream, the
 * graceful end when the replica stops, and the per-principal bound. The NATS is spawned for this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subjects, parseSessionSubject } from '@meshgate/contracts';
import { MetaKeys } from '../src/modern-envelope';
import { SseReader, data } from './harness';
import { modernPost, modernRequest, startModernStack, type ModernStack } from './modern-harness';

let stack: ModernStack;

beforeAll(async () => {
  // Replica 1 allows one listen per principal; replica 2 is stopped by a test.
  stack = await startModernStack([{}, { INGRESS_MAX_LISTENS_PER_PRINCIPAL: '1' }, {}]);
});

afterAll(async () => {
  await stack?.stop();
});

const listenRequest = (id: string | number, notifications: Record<string, unknown>) =>
  modernRequest(id, 'subscriptions/listen', { notifications });

/** The session the router learned for the listen with request id `id`'s subscribes. */
function listenSessionOf(uri: string): string {
  const sub = stack.router.calls.filter(
    (c) => c.message.method === 'resources/subscribe' && c.message.params?.['uri'] === uri,
  );
  return sub.at(-1)!.session.id;
}

describe('subscriptions/listen', () => {
  it('acknowledges the honoured filter, forwards only what was asked for, and ends its session on close', async () => {
    const abort = new AbortController();
    const res = await modernPost(
      stack.url(0),
      listenRequest('listen:1', {
        toolsListChanged: true,
        promptsListChanged: true,
        resourceSubscriptions: ['res://a', 'res://a'],
      }),
      {},
      abort.signal,
    );
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const sse = new SseReader(res);
    // Prompts: the server declares no prompts capability, so that flag is not honoured.
    expect(data(await sse.next())).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: {
        notifications: { toolsListChanged: true, resourceSubscriptions: ['res://a'] },
        _meta: { [MetaKeys.subscriptionId]: 'listen:1' },
      },
    });
    const sid = listenSessionOf('res://a');
    const listenCalls = stack.router.calls.filter((c) => c.session.id === sid).map((c) => c.message.method);
    expect(listenCalls).toEqual(['initialize', 'resources/subscribe']);
    const virtual = stack.router.calls.find(
      (c) => c.message.method === 'initialize' && c.session.id !== sid,
    )!;
    expect(sid).not.toBe(virtual.session.id);

    stack.router.toAgent(sid, {
      jsonrpc: '2.0',
      method: 'notifications/resources/updated',
      params: { uri: 'res://b' },
    });
    stack.router.toAgent(sid, { jsonrpc: '2.0', method: 'notifications/prompts/list_changed' });
    stack.router.toAgent(sid, {
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { level: 'error', data: 'x' },
    });
    stack.router.toAgent(sid, {
      jsonrpc: '2.0',
      method: 'notifications/resources/updated',
      params: { uri: 'res://a' },
    });
    stack.router.toAgent(sid, { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(data(await sse.next())).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/resources/updated',
      params: { uri: 'res://a', _meta: { [MetaKeys.subscriptionId]: 'listen:1' } },
    });
    expect(data(await sse.next())).toMatchObject({ method: 'notifications/tools/list_changed' });

    const ended = new Promise<string>((resolve) => {
      stack.bus.nc.subscribe(Subjects.sessionEnded(sid), {
        max: 1,
        callback: (_err, msg) => resolve(parseSessionSubject(msg.subject)!.sessionId),
      });
    });
    await stack.bus.nc.flush();
    abort.abort();
    expect(await ended).toBe(sid);
  });

  it('answers a server-to-client request outside a call with an error upstream', async () => {
    const abort = new AbortController();
    const res = await modernPost(
      stack.url(0),
      listenRequest(7, { resourceSubscriptions: ['res://c'] }),
      {},
      abort.signal,
    );
    const sse = new SseReader(res);
    await sse.next();
    const sid = listenSessionOf('res://c');
    stack.router.toAgent(sid, { jsonrpc: '2.0', id: 'mg:router-modern:9001', method: 'roots/list' } as never);
    await stack.router.until(() =>
      stack.router.toUpstream.some((u) =>
        JSON.stringify(u.payload.message).includes('mg:router-modern:9001'),
      ),
    );
    const refusal = stack.router.toUpstream.find((u) =>
      JSON.stringify(u.payload.message).includes('mg:router-modern:9001'),
    )!;
    expect(refusal.payload.message).toMatchObject({ error: { code: -32601 } });
    abort.abort();
  });

  it('ends at once, gracefully, when nothing can be honoured', async () => {
    const res = await modernPost(stack.url(0), listenRequest(8, { promptsListChanged: true }));
    const events = (await new SseReader(res).rest()).map((e) => data(e));
    expect(events).toMatchObject([
      { method: 'notifications/subscriptions/acknowledged', params: { notifications: {} } },
      { id: 8, result: { resultType: 'complete', _meta: { [MetaKeys.subscriptionId]: 8 } } },
    ]);
  });

  it('bounds the open listens of one principal on a replica', async () => {
    const abort = new AbortController();
    const first = await modernPost(
      stack.url(1),
      listenRequest(1, { toolsListChanged: true }),
      {},
      abort.signal,
    );
    const sse = new SseReader(first);
    await sse.next();
    const second = await modernPost(stack.url(1), listenRequest(2, { toolsListChanged: true }));
    expect(second.status).toBe(429);
    expect(await second.json()).toMatchObject({ id: 2, error: { code: -32004 } });
    abort.abort();
    await sse.cancel();
    // The slot comes back once the first listen is gone.
    let third: Response | undefined;
    for (let i = 0; i < 50 && third?.status !== 200; i++) {
      await third?.body?.cancel();
      third = await modernPost(stack.url(1), listenRequest(3, { toolsListChanged: true }));
      if (third.status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(third!.status).toBe(200);
    await third!.body?.cancel();
  });

  it('ends its listens with the empty result when the replica stops', async () => {
    const res = await modernPost(stack.url(2), listenRequest('last', { toolsListChanged: true }));
    const sse = new SseReader(res);
    await sse.next();
    const stopping = stack.ingress[2]!.stop();
    expect(data(await sse.next())).toEqual({
      jsonrpc: '2.0',
      id: 'last',
      result: {
        resultType: 'complete',
        _meta: {
          [MetaKeys.subscriptionId]: 'last',
          [MetaKeys.serverInfo]: { name: 'fake-router', version: '1.0.0' },
        },
      },
    });
    await stopping;
  });
});
