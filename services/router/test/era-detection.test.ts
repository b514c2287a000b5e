/**
 * Era detection against real upstreams of every era, through real transports (no NATS): a 2026-07-28
 * server (SDK v2 modern fixture) over HTTP and stdio is modern; a 2025 Streamable HTTP server (SDK v1)
 * falls back to initialize; a 2024-11-05 HTTP+SSE endpoint is found by an `auto` definition when
 * initialize is refused. The verdict is shared by the connections of a definition, refreshed when a
 * connection is re-established and forgotten when the definition changes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ServerDefinition, type ServerDefinitionInput } from '@meshgate/contracts';
import { modernServerStdioCommand, startModernServerHttp, type ModernHttpServer } from '@meshgate/testing';
import { UpstreamConnection, type ConnectionHooks } from '../src/upstream/connection';
import type { EraVerdicts } from '../src/upstream/era';
import { ConnectionPool } from '../src/upstream/pool';
import { createTransport } from '../src/upstream/transports';
import { startHttpFixture, type HttpFixture } from './fixtures/http-fixture';
import { routerDir, stdioFixture } from './harness';

const log = pino({ level: 'silent' });
const hooks: ConnectionHooks = {
  serverRequest: () => undefined,
  notification: () => undefined,
  reconnected: () => undefined,
  down: () => undefined,
};

let modern: ModernHttpServer;
let older: HttpFixture;
const open: UpstreamConnection[] = [];

beforeAll(async () => {
  modern = await startModernServerHttp();
  older = await startHttpFixture();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  await modern?.close();
  await older?.close();
});

function connection(input: ServerDefinitionInput, eras?: EraVerdicts): UpstreamConnection {
  const conn = new UpstreamConnection({
    def: ServerDefinition.parse(input),
    owner: undefined,
    transports: createTransport,
    hooks,
    log,
    backoffMaxMs: 1000,
    version: '1.0.0',
    ...(eras ? { eras } : {}),
  });
  open.push(conn);
  conn.start();
  return conn;
}

async function eraOf(input: ServerDefinitionInput): Promise<UpstreamConnection['era']> {
  const conn = connection(input);
  await conn.whenReady(10_000);
  return conn.era;
}

describe('era detection', () => {
  it('finds a 2026-07-28 server over HTTP modern, never initializing it', async () => {
    const before = modern.received('server/discover');
    for (const transport of ['streamable-http', 'auto'] as const)
      expect(await eraOf({ name: 'modern', transport, url: modern.url })).toEqual({
        kind: 'modern',
        wire: 'streamable-http',
        protocolVersion: '2026-07-28',
      });
    expect(modern.received('server/discover')).toBe(before + 2);
    expect(modern.received('initialize')).toBe(0);
  });

  it('reads the discover answer from an event stream too', async () => {
    const streaming = await startModernServerHttp({ responseMode: 'sse' });
    try {
      const conn = connection({ name: 'streaming', transport: 'auto', url: streaming.url });
      await conn.whenReady(10_000);
      expect(conn.era).toMatchObject({ kind: 'modern', wire: 'streamable-http' });
      expect(
        await conn.request('tools/call', { name: 'countdown', arguments: { steps: 1 } }, undefined, 5000),
      ).toMatchObject({
        result: { content: [{ type: 'text', text: 'counted down 1 steps' }] },
      });
      await conn.stop();
    } finally {
      await streaming.close();
    }
  });

  it('falls back to initialize for a 2025 Streamable HTTP server', async () => {
    for (const transport of ['streamable-http', 'auto'] as const)
      expect(await eraOf({ name: 'older', transport, url: older.url })).toEqual({
        kind: 'session',
        wire: 'streamable-http',
        protocolVersion: '2025-11-25',
      });
  });

  it('falls back to HTTP+SSE for an auto definition whose initialize is refused, and relays on it', async () => {
    const conn = connection({ name: 'legacy', transport: 'auto', url: older.sseUrl });
    await conn.whenReady(10_000);
    expect(conn.era).toMatchObject({ kind: 'session', wire: 'sse' });
    expect(
      await conn.request('tools/call', { name: 'echo', arguments: { text: 'old' } }, undefined, 5000),
    ).toEqual({
      result: { content: [{ type: 'text', text: 'echo: old' }] },
    });
  });

  it('probes stdio children with server/discover: modern and older servers', async () => {
    expect(
      await eraOf({
        name: 'modern-child',
        transport: 'stdio',
        ...modernServerStdioCommand(),
        cwd: routerDir,
      }),
    ).toEqual({ kind: 'modern', wire: 'stdio', protocolVersion: '2026-07-28' });
    expect(await eraOf(stdioFixture('older-child'))).toEqual({
      kind: 'session',
      wire: 'stdio',
      protocolVersion: '2025-11-25',
    });
  });
});

describe('the era verdict of a definition', () => {
  it('is shared by its connections, and forgotten when the definition changes', async () => {
    const pool = new ConnectionPool((def, owner, gate, caller, eras) => connection(def, eras));
    const def = ServerDefinition.parse({ name: 'shared', transport: 'auto', url: older.url, stateful: true });
    const first = older.initializeCount();
    await pool.connectionFor(def, 's1').whenReady(10_000);
    // The initialize probe, then the handshake.
    expect(older.initializeCount()).toBe(first + 2);
    await pool.connectionFor(def, 's2').whenReady(10_000);
    // The kept verdict: the handshake only.
    expect(older.initializeCount()).toBe(first + 3);
    expect(pool.eras.get(def)).toEqual({ kind: 'session', wire: 'streamable-http' });

    await pool.closeServer('shared');
    expect(pool.eras.get(def)).toBeUndefined();
    const changed = ServerDefinition.parse({ ...def, url: modern.url });
    const conn = pool.connectionFor(changed, 's1');
    await conn.whenReady(10_000);
    expect(conn.era?.kind).toBe('modern');
    expect(pool.eras.get(changed)).toEqual({ kind: 'modern', wire: 'streamable-http' });
    await pool.closeAll();
  });

  it('is detected afresh when the connection has to be re-established', async () => {
    const conn = connection({ name: 'again', transport: 'auto', url: older.url });
    await conn.whenReady(10_000);
    const before = older.initializeCount();
    await older.expireSessions();
    const echo = await conn.request(
      'tools/call',
      { name: 'echo', arguments: { text: 'back' } },
      undefined,
      10_000,
    );
    expect(echo).toEqual({ result: { content: [{ type: 'text', text: 'echo: back' }] } });
    // Probed again (the initialize probe) before the handshake.
    expect(older.initializeCount()).toBe(before + 2);
  });
});
