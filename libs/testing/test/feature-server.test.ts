/**
 * createFeatureServer over an in-memory transport (options that no runner test covers: paging, a client
 * without sampling/elicitation/roots, shared state between connections) and the in-memory event store.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import {
  createFeatureServer,
  FeatureState,
  firstText,
  MemoryEventStore,
  PROCESS_ID,
  structured,
  type FeatureServerOptions,
} from '../src/index';

async function connectBare(opts: FeatureServerOptions = {}): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createFeatureServer(opts).connect(serverSide);
  const client = new Client({ name: 'bare', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

describe('createFeatureServer', () => {
  it('pages every list when pageSize is set and rejects a bad cursor', async () => {
    const client = await connectBare({ pageSize: 5 });
    const whole = await (await connectBare()).listTools();
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      names.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    expect(names).toEqual(whole.tools.map((t) => t.name));
    expect(pages).toBe(Math.ceil(whole.tools.length / 5));
    expect((await client.listPrompts()).nextCursor).toBeUndefined();
    await expect(client.listTools({ cursor: 'x' })).rejects.toMatchObject({ code: -32602 });
    await client.close();
  });

  it('answers client-side features the client lacks with tool errors, not crashes', async () => {
    const client = await connectBare();
    for (const name of ['sample', 'elicit', 'elicitUrl', 'roots']) {
      const result = await client.callTool({ name, arguments: name === 'sample' ? { prompt: 'x' } : {} });
      expect(result.isError).toBe(true);
      expect(firstText(result)).toMatch(new RegExp(`^${name} failed: `));
    }
    expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe(
      'still here',
    );
    expect((await client.callTool({ name: 'echo', arguments: { text: 42 } })).isError).toBe(true);
    await client.close();
  });

  it('lists crash only when crashable, and shares counter and slow outcomes through the state', async () => {
    const state = new FeatureState();
    const [a, b] = [
      await connectBare({ state }),
      await connectBare({ state, crashable: true, name: 'other' }),
    ];
    expect((await a.listTools()).tools.some((t) => t.name === 'crash')).toBe(false);
    expect((await b.listTools()).tools.some((t) => t.name === 'crash')).toBe(true);
    expect(b.getServerVersion()?.name).toBe('other');
    expect(structured(await b.callTool({ name: 'whoami' }))).toMatchObject({
      process: PROCESS_ID,
      pid: process.pid,
      server: state.id,
      session: null,
    });
    await a.callTool({ name: 'notifyChanged' });
    expect(state.counter).toBe(1);
    await a.callTool({ name: 'slow', arguments: { ms: 1, tag: 't' } });
    expect(structured(await b.callTool({ name: 'wasCancelled', arguments: { tag: 't' } }))).toEqual({
      tag: 't',
      outcome: 'completed',
      cancelled: false,
    });
    await Promise.all([a.close(), b.close()]);
  });
});

describe('MemoryEventStore', () => {
  const message = (id: number): JSONRPCMessage => ({
    jsonrpc: '2.0',
    method: 'notifications/message',
    params: { level: 'info', data: id },
  });

  it('replays the events of the same stream after an id, skipping priming events', async () => {
    const store = new MemoryEventStore();
    const prime = await store.storeEvent('s1', {} as JSONRPCMessage);
    const first = await store.storeEvent('s1', message(1));
    await store.storeEvent('s2', message(2));
    const third = await store.storeEvent('s1', message(3));
    expect(await store.getStreamIdForEventId(first)).toBe('s1');
    expect(await store.getStreamIdForEventId('nope')).toBeUndefined();
    const sent: [string, JSONRPCMessage][] = [];
    expect(await store.replayEventsAfter(prime, { send: async (id, m) => void sent.push([id, m]) })).toBe(
      's1',
    );
    expect(sent).toEqual([
      [first, message(1)],
      [third, message(3)],
    ]);
    await expect(store.replayEventsAfter('nope', { send: async () => {} })).rejects.toThrow(
      /Unknown event id/,
    );
  });

  it('keeps only the newest maxEvents events', async () => {
    const store = new MemoryEventStore(3);
    const ids = [];
    for (let i = 0; i < 5; i += 1) ids.push(await store.storeEvent('_GET_stream', message(i)));
    expect(store.size).toBe(3);
    expect(await store.getStreamIdForEventId(ids[1] ?? '')).toBeUndefined();
    expect(await store.getStreamIdForEventId(ids[4] ?? '')).toBe('_GET_stream');
  });
});
