/**
 * Establishing a stdio connection over scripted children: the server/discover probe decides the era, a
 * child that exits on the probe is replaced by a fresh one that is initialized, the verdict kept for the
 * definition skips the probe unless the connection is re-established, and a failure forgets it. Plus the
 * pure decisions of era detection (era-detection) and the verdicts' validity per definition.
 */
import { describe, expect, it } from 'vitest';
import { StdioServer, type JsonRpcMessage } from '@meshgate/contracts';
import { OpenedTransport, establish, type EstablishDeps } from '../../src/upstream/establish';
import { EraVerdicts } from '../../src/upstream/era';
import { classifyDiscover, classifyInitialize } from '../../src/upstream/era-detection';
import type { Outcome } from '../../src/upstream/relay-table';
import type { TransportEvents, UpstreamTransport } from '../../src/upstream/transport';

const def = StdioServer.parse({ name: 'kid', transport: 'stdio', command: 'unused', timeoutMs: 2000 });

const Discovered: Outcome = {
  result: {
    supportedVersions: ['2026-07-28'],
    capabilities: { tools: {} },
    resultType: 'complete',
    _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'kid', version: '9' } },
  },
};
const Initialized: Outcome = {
  result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'kid', version: '1' } },
};
const NotFound: Outcome = { error: { code: -32601, message: 'Method not found' } };

/** How a scripted child answers a request: an outcome, or it exits instead. */
type Script = (method: string, child: number) => Outcome | 'exit';

/** A child process as the connection sees it, answering by script. */
class Child implements UpstreamTransport {
  readonly sent: string[] = [];
  version: string | undefined;
  closed = false;

  constructor(
    private readonly events: TransportEvents,
    readonly index: number,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  send(message: JsonRpcMessage): Promise<void> {
    if ('method' in message && typeof message.method === 'string') this.sent.push(message.method);
    return Promise.resolve();
  }

  initialized(version: string): void {
    this.version = version;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  exit(): void {
    this.events.closed('process exited with code 1');
  }
}

function harness(script: Script, verdicts = new EraVerdicts(), fresh = false) {
  const children: Child[] = [];
  const reported: string[] = [];
  const deps: EstablishDeps = {
    def,
    caller: undefined,
    verdicts,
    fresh,
    version: '1.0.0',
    open: () =>
      new OpenedTransport(
        (events) => {
          const child = new Child(events, children.length);
          children.push(child);
          return child;
        },
        { message: () => undefined, closed: (reason) => reported.push(reason) },
      ),
    exchange: (transport, method) => {
      const child = transport as Child;
      child.sent.push(method);
      const answer = script(method, child.index);
      if (answer !== 'exit') return Promise.resolve(answer);
      child.exit();
      return new Promise<Outcome>(() => undefined);
    },
  };
  return { deps, children, reported, verdicts };
}

describe('establish over stdio', () => {
  it('takes a child answering server/discover for a modern upstream, without initialize', async () => {
    const { deps, children, verdicts } = harness((method) =>
      method === 'server/discover' ? Discovered : NotFound,
    );
    const out = await establish(deps);
    expect(out.era).toEqual({ kind: 'modern', wire: 'stdio', protocolVersion: '2026-07-28' });
    expect(out.initializeResult).toEqual({
      protocolVersion: '2026-07-28',
      capabilities: { tools: {} },
      serverInfo: { name: 'kid', version: '9' },
    });
    expect(children.map((c) => c.sent)).toEqual([['server/discover']]);
    expect(verdicts.get(def)).toEqual({ kind: 'modern', wire: 'stdio' });
  });

  it('initializes the same child when it refuses server/discover', async () => {
    const { deps, children } = harness((method) => (method === 'initialize' ? Initialized : NotFound));
    const out = await establish(deps);
    expect(out.era).toEqual({ kind: 'session', wire: 'stdio', protocolVersion: '2025-06-18' });
    expect(children).toHaveLength(1);
    expect(children[0]!.sent).toEqual(['server/discover', 'initialize', 'notifications/initialized']);
    expect(children[0]!.version).toBe('2025-06-18');
  });

  it('spawns a fresh child when the first exits on the probe, and its exit does not end the attempt', async () => {
    const { deps, children, reported } = harness((method, child) =>
      method === 'server/discover' && child === 0 ? 'exit' : Initialized,
    );
    const out = await establish(deps);
    expect(out.era.kind).toBe('session');
    expect(out.transport).toBe(children[1]);
    expect(children[1]!.sent).toEqual(['initialize', 'notifications/initialized']);
    expect(reported).toEqual([]);
  });

  it('skips the probe for a kept session verdict, but not when re-establishing', async () => {
    const verdicts = new EraVerdicts();
    verdicts.set(def, { kind: 'session', wire: 'stdio' });
    const script: Script = (method) => (method === 'initialize' ? Initialized : NotFound);
    const kept = harness(script, verdicts);
    await establish(kept.deps);
    expect(kept.children[0]!.sent).toEqual(['initialize', 'notifications/initialized']);
    const again = harness(script, verdicts, true);
    await establish(again.deps);
    expect(again.children[0]!.sent[0]).toBe('server/discover');
  });

  it('forgets the verdict when establishing fails, and closes what it opened', async () => {
    const verdicts = new EraVerdicts();
    verdicts.set(def, { kind: 'session', wire: 'stdio' });
    const { deps, children } = harness(() => ({ error: { code: -32603, message: 'broken' } }), verdicts);
    await expect(establish(deps)).rejects.toThrow(/initialize failed: broken/);
    expect(verdicts.get(def)).toBeUndefined();
    expect(children.every((c) => c.closed)).toBe(true);
  });
});

describe('era verdicts', () => {
  it('hold for the definition they were made for only', () => {
    const verdicts = new EraVerdicts();
    verdicts.set(def, { kind: 'modern', wire: 'stdio' });
    expect(verdicts.get(def)).toEqual({ kind: 'modern', wire: 'stdio' });
    expect(verdicts.get({ ...def, args: ['--other'] })).toBeUndefined();
    verdicts.forget(def.name);
    expect(verdicts.get(def)).toBeUndefined();
  });
});

describe('era detection decisions', () => {
  it('reads a discover result offering 2026-07-28 as modern, any error or other result as older', () => {
    expect(classifyDiscover({ kind: 'answer', ...Discovered }, 'http').kind).toBe('modern');
    expect(classifyDiscover({ kind: 'answer', ...NotFound, status: 200 }, 'http').kind).toBe('older');
    expect(
      classifyDiscover(
        { kind: 'answer', result: { supportedVersions: ['2027-01-01'], capabilities: {} } },
        'stdio',
      ).kind,
    ).toBe('older');
    expect(
      classifyDiscover(
        { kind: 'answer', error: { code: -32000, message: 'no session' }, status: 400 },
        'http',
      ),
    ).toEqual({ kind: 'older' });
    expect(classifyDiscover({ kind: 'http', status: 404 }, 'http')).toEqual({ kind: 'older' });
  });

  it('fails on refused credentials and server errors instead of guessing an era', () => {
    expect(classifyDiscover({ kind: 'http', status: 401 }, 'http')).toMatchObject({ kind: 'failed' });
    expect(classifyDiscover({ kind: 'answer', ...NotFound, status: 403 }, 'http')).toMatchObject({
      kind: 'failed',
    });
    expect(classifyDiscover({ kind: 'http', status: 503 }, 'http')).toMatchObject({ kind: 'failed' });
  });

  it('takes silence or an exit as an older server on stdio only', () => {
    expect(classifyDiscover({ kind: 'timeout' }, 'stdio')).toEqual({ kind: 'older' });
    expect(classifyDiscover({ kind: 'closed' }, 'stdio')).toEqual({ kind: 'older' });
    expect(classifyDiscover({ kind: 'timeout' }, 'http')).toMatchObject({ kind: 'failed' });
  });

  it('reads initialize answered 400, 404 or 405 as an HTTP+SSE endpoint', () => {
    expect(classifyInitialize(200)).toEqual({ kind: 'streamable-http' });
    for (const status of [400, 404, 405]) expect(classifyInitialize(status)).toEqual({ kind: 'sse' });
    expect(classifyInitialize(500)).toMatchObject({ kind: 'failed' });
    expect(classifyInitialize(401)).toMatchObject({ kind: 'failed' });
  });
});
