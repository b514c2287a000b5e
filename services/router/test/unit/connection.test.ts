/**
 * UpstreamConnection over a scripted transport: how the relay treats what a broken upstream answers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { ServerDefinition, type JsonRpcMessage } from '@meshgate/contracts';
import { UpstreamConnection, type ConnectionHooks } from '../../src/upstream/connection';
import type { TransportEvents, UpstreamTransport } from '../../src/upstream/transport';

const log = pino({ level: 'silent' });
const hooks: ConnectionHooks = {
  serverRequest: () => undefined,
  notification: () => undefined,
  reconnected: () => undefined,
  down: () => undefined,
};
const open: UpstreamConnection[] = [];

/** A connection whose upstream answers initialize properly and every other request with `answer(id)`. */
function scripted(answer: (id: unknown) => unknown): UpstreamConnection {
  const def = ServerDefinition.parse({
    name: 'broken',
    transport: 'stdio',
    command: 'unused',
    timeoutMs: 5000,
  });
  const transport = (_def: unknown, events: TransportEvents): UpstreamTransport => ({
    start: () => Promise.resolve(),
    send: (m: JsonRpcMessage) => {
      if ('method' in m && 'id' in m)
        queueMicrotask(() =>
          events.message(
            m.method === 'initialize'
              ? { jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-11-25', capabilities: {} } }
              : answer(m.id),
          ),
        );
      return Promise.resolve();
    },
    initialized: () => undefined,
    close: () => Promise.resolve(),
  });
  const conn = new UpstreamConnection({
    def,
    owner: undefined,
    transports: transport,
    hooks,
    log,
    backoffMaxMs: 1000,
    version: '1',
  });
  open.push(conn);
  conn.start();
  return conn;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.stop()));
});

describe('UpstreamConnection', () => {
  it('fails a call at once when the upstream answers it with an invalid response', async () => {
    const conn = scripted((id) => ({ jsonrpc: '2.0', id, result: null }));
    const started = Date.now();
    const out = await conn.request('tools/call', { name: 'x' }, undefined, 5000);
    expect(out).toMatchObject({ error: { code: -32603, message: /invalid response/ } });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('closes a transport whose handshake ends after the connection was stopped', async () => {
    const def = ServerDefinition.parse({
      name: 'slow',
      transport: 'stdio',
      command: 'unused',
      timeoutMs: 5000,
    });
    let closed = 0;
    const transport = (_def: unknown, events: TransportEvents): UpstreamTransport => ({
      start: () => Promise.resolve(),
      send: (m: JsonRpcMessage) => {
        if ('method' in m && 'id' in m)
          setTimeout(
            () =>
              events.message(
                m.method === 'initialize'
                  ? { jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-11-25', capabilities: {} } }
                  : { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } },
              ),
            150,
          );
        return Promise.resolve();
      },
      initialized: () => undefined,
      close: () => {
        closed++;
        return Promise.resolve();
      },
    });
    const conn = new UpstreamConnection({
      def,
      owner: undefined,
      transports: transport,
      hooks,
      log,
      backoffMaxMs: 1000,
      version: '1',
    });
    conn.start();
    await new Promise((r) => setTimeout(r, 50));
    await conn.stop();
    expect(closed).toBe(1);
    expect(conn.era).toBeUndefined();
  });

  it('detects the era afresh when a modern upstream refuses 2026-07-28', async () => {
    const def = ServerDefinition.parse({
      name: 'swapped',
      transport: 'stdio',
      command: 'unused',
      timeoutMs: 5000,
    });
    let generation = 0;
    const transport = (_def: unknown, events: TransportEvents): UpstreamTransport => {
      // The first child is modern until it refuses the version; the next one is a 2025 server.
      const modern = generation++ === 0;
      const answer = (method: string) => {
        if (method === 'server/discover' && modern)
          return { result: { supportedVersions: ['2026-07-28'], capabilities: {} } };
        if (method === 'initialize' && !modern)
          return { result: { protocolVersion: '2025-06-18', capabilities: {} } };
        if (method === 'tools/call' && modern)
          return { error: { code: -32022, message: 'Unsupported protocol version' } };
        if (method === 'tools/call') return { result: { content: [] } };
        return { error: { code: -32601, message: 'Method not found' } };
      };
      return {
        start: () => Promise.resolve(),
        send: (m: JsonRpcMessage) => {
          const method = 'method' in m && 'id' in m ? m.method : undefined;
          if (typeof method === 'string')
            queueMicrotask(() =>
              events.message({ jsonrpc: '2.0', id: (m as { id: unknown }).id, ...answer(method) }),
            );
          return Promise.resolve();
        },
        initialized: () => undefined,
        close: () => Promise.resolve(),
      };
    };
    const conn = new UpstreamConnection({
      def,
      owner: undefined,
      transports: transport,
      hooks,
      log,
      backoffMaxMs: 1000,
      version: '1',
    });
    open.push(conn);
    conn.start();
    await conn.whenReady(5000);
    expect(conn.era?.kind).toBe('modern');
    expect(await conn.request('tools/call', { name: 'x' }, undefined, 5000)).toMatchObject({
      error: { code: -32022 },
    });
    await vi.waitFor(
      () => expect(conn.era).toMatchObject({ kind: 'session', protocolVersion: '2025-06-18' }),
      {
        timeout: 5000,
      },
    );
    expect(await conn.request('tools/call', { name: 'x' }, undefined, 5000)).toEqual({
      result: { content: [] },
    });
  });
});
