/**
 * SSE resumability and concurrent streams through a whole in-process gateway, spoken in raw HTTP (no SDK
 * client, so every SSE field the agent gets is checked): a POST stream dropped after its first progress
 * event is resumed by GET with Last-Event-ID on the same and on a second ingress replica (every event
 * exactly once, in order, then the result, then the end); several calls of one session stream at once
 * beside its GET stream without crossing over; and `notifications/cancelled` reaches the upstream tool.
 * The feature fixture runs over Streamable HTTP (`fx`) and over stdio (`fxs`).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  COUNTER_URI,
  featureServerStdioCommand,
  startFeatureServerHttp,
  waitUntil,
  type FeatureHttpServer,
} from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

const PROTOCOL_VERSION = '2025-11-25';
/** A `retry:` advice unlike the default, so the test sees the configured one arrive. */
const RETRY_MS = 250;

type JsonObject = Record<string, unknown>;

/** What `wasCancelled` answers, as far as this test reads it. */
const WasCancelledAnswer = z.object({
  result: z.object({ structuredContent: z.object({ outcome: z.string() }) }),
});

/** One SSE event: `message` is its data parsed as JSON (undefined for the empty priming data). */
interface SseEvent {
  id: string | undefined;
  data: string;
  retry: number | undefined;
  message: JsonObject | undefined;
}

/** Parses one SSE block (lines up to a blank line); null for blocks without data (comments, bare retry). */
function parseBlock(block: string): SseEvent | null {
  const fields = new Map<string, string[]>();
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  const data = fields.get('data')?.join('\n');
  if (data === undefined) return null;
  const retry = fields.get('retry')?.at(-1);
  return {
    id: fields.get('id')?.at(-1),
    data,
    retry: retry === undefined ? undefined : Number(retry),
    message: data === '' ? undefined : (JSON.parse(data) as JsonObject),
  };
}

/** Reads SSE events off a response body one at a time; `next` gives null once the server ended it. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';

  constructor(res: Response) {
    if (!res.body) throw new Error('response without a body');
    this.#reader = res.body.getReader();
  }

  async next(): Promise<SseEvent | null> {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end >= 0) {
        const event = parseBlock(this.#buffer.slice(0, end));
        this.#buffer = this.#buffer.slice(end + 2);
        if (event) return event;
        continue;
      }
      const { done, value } = await this.#reader.read();
      if (done) {
        if (this.#buffer.trim() !== '') throw new Error(`stream ended inside an event: ${this.#buffer}`);
        return null;
      }
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Like `next`, but fails after `ms`. */
  async nextWithin(ms: number): Promise<SseEvent | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no SSE event within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.next(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every event until the server ends the stream. */
  async rest(): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    for (let e = await this.next(); e; e = await this.next()) events.push(e);
    return events;
  }
}

let gateway: Gateway;
let fixtureHttp: FeatureHttpServer;

/** One agent session in raw HTTP on one endpoint path; any ingress replica serves any of its requests. */
class RawSession {
  private constructor(
    readonly path: string,
    readonly id: string,
  ) {}

  static async open(path: string): Promise<RawSession> {
    const res = await fetch(endpoint(path, 0), {
      method: 'POST',
      headers: { ...JSON_POST, 'mcp-protocol-version': PROTOCOL_VERSION },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: 'streams-e2e', version: '1.0.0' },
        },
      }),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get('mcp-session-id');
    if (!id) throw new Error('initialize answered without Mcp-Session-Id');
    expect(await messagesOf(res)).toMatchObject([{ id: 0, result: { protocolVersion: PROTOCOL_VERSION } }]);
    const session = new RawSession(path, id);
    expect((await session.post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
    return session;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'mcp-session-id': this.id, 'mcp-protocol-version': PROTOCOL_VERSION, ...extra };
  }

  post(message: JsonObject, opts: { replica?: number; signal?: AbortSignal } = {}): Promise<Response> {
    return fetch(endpoint(this.path, opts.replica ?? 0), {
      method: 'POST',
      headers: this.headers(JSON_POST),
      body: JSON.stringify(message),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** POSTs a request and returns every message of its answer (JSON, or all events of an SSE stream). */
  async exchange(message: JsonObject): Promise<JsonObject[]> {
    const res = await this.post(message);
    expect(res.status).toBe(200);
    return messagesOf(res);
  }

  /** Opens the standalone stream, or resumes a stream after `lastEventId`, on ingress replica `replica`. */
  get(opts: { replica?: number; lastEventId?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const extra: Record<string, string> = { accept: 'text/event-stream' };
    if (opts.lastEventId !== undefined) extra['last-event-id'] = opts.lastEventId;
    return fetch(endpoint(this.path, opts.replica ?? 0), {
      headers: this.headers(extra),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  async close(): Promise<void> {
    await fetch(endpoint(this.path, 0), { method: 'DELETE', headers: this.headers() });
  }
}

const JSON_POST = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function endpoint(path: string, replica: number): string {
  return `${gateway.ingress[replica]!.url}${path}`;
}

/** The messages of an answer: its JSON body, or the data of every event of its SSE stream. */
async function messagesOf(res: Response): Promise<JsonObject[]> {
  if (res.headers.get('content-type')?.startsWith('application/json'))
    return [(await res.json()) as JsonObject];
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = await new SseReader(res).rest();
  return events.flatMap((e) => (e.message ? [e.message] : []));
}

function toolCall(id: number, name: string, args: JsonObject, progressToken?: string): JsonObject {
  const meta = progressToken === undefined ? {} : { _meta: { progressToken } };
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...meta } };
}

/** The progress notifications the fixture's `progress` tool sends for `steps` steps on `token`. */
function progressOf(token: string, steps: number): JsonObject[] {
  return Array.from({ length: steps }, (_, i) => ({
    jsonrpc: '2.0',
    method: 'notifications/progress',
    params: { progressToken: token, progress: i + 1, total: steps, message: `step ${i + 1} of ${steps}` },
  }));
}

function textAnswer(id: number, text: string): JsonObject {
  return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } };
}

beforeAll(async () => {
  fixtureHttp = await startFeatureServerHttp();
  const stdio = featureServerStdioCommand();
  gateway = await startGateway({
    servers: {
      fx: { url: fixtureHttp.url, type: 'http' },
      fxs: { command: stdio.command, args: stdio.args },
    },
    ingressReplicas: 2,
    env: { MESHGATE_SSE_RETRY_MS: String(RETRY_MS) },
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fixtureHttp?.close();
});

/** Each endpoint under test: its path, and how it names the upstream's tools and resource URIs. */
const endpoints = [
  { title: 'federated endpoint, Streamable HTTP upstream', path: '/mcp', server: 'fx', federated: true },
  {
    title: 'per-server endpoint, Streamable HTTP upstream',
    path: '/servers/fx/mcp',
    server: 'fx',
    federated: false,
  },
  { title: 'federated endpoint, stdio upstream', path: '/mcp', server: 'fxs', federated: true },
  { title: 'per-server endpoint, stdio upstream', path: '/servers/fxs/mcp', server: 'fxs', federated: false },
];

for (const { title, path, server, federated } of endpoints) {
  const tool = (name: string) => (federated ? `${server}__${name}` : name);
  const uri = (u: string) => (federated ? `${server}+${u}` : u);

  describe(title, () => {
    for (const resumeReplica of [0, 1]) {
      it(`resumes a dropped POST stream with Last-Event-ID on ingress replica ${resumeReplica}`, async () => {
        const session = await RawSession.open(path);
        const token = `resume-${randomUUID()}`;
        const dropped = new AbortController();
        const res = await session.post(toolCall(1, tool('progress'), { steps: 5, intervalMs: 150 }, token), {
          signal: dropped.signal,
        });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const live = new SseReader(res);
        const priming = await live.nextWithin(5000);
        expect(priming).toMatchObject({ data: '', retry: RETRY_MS, message: undefined });
        const streamId = /^(.+)_0$/.exec(priming?.id ?? '')?.[1];
        if (!streamId) throw new Error(`priming event id ${priming?.id} is not <stream>_0`);
        const first = await live.nextWithin(5000);
        expect(first).toMatchObject({ id: `${streamId}_1`, message: progressOf(token, 5)[0] });
        dropped.abort();
        await delay(200);

        // The next step is in the log by now; the later ones and the result are followed live.
        const resumed = await session.get({ replica: resumeReplica, lastEventId: `${streamId}_1` });
        expect(resumed.status).toBe(200);
        expect(resumed.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const replay = await new SseReader(resumed).rest();
        expect(replay.map((e) => e.id)).toEqual([2, 3, 4, 5, 6].map((seq) => `${streamId}_${seq}`));
        const everything = [...progressOf(token, 5), textAnswer(1, 'sent 5 progress notifications')];
        expect([first?.message, ...replay.map((e) => e.message)]).toEqual(everything);

        // Once finished, the whole stream replays from its priming id, and nothing is left after the result.
        const again = await new SseReader(await session.get({ lastEventId: `${streamId}_0` })).rest();
        expect(again.map((e) => e.message)).toEqual(everything);
        expect((await session.get({ replica: resumeReplica, lastEventId: `${streamId}_6` })).status).toBe(
          204,
        );
        await session.close();
      });
    }

    it('keeps concurrent POST streams and the GET stream (on the other replica) of one session apart', async () => {
      const session = await RawSession.open(path);
      const subscribed = await session.exchange({
        jsonrpc: '2.0',
        id: 1,
        method: 'resources/subscribe',
        params: { uri: uri(COUNTER_URI) },
      });
      expect(subscribed).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
      const standalone = new AbortController();
      const getRes = await session.get({ replica: 1, signal: standalone.signal });
      expect(getRes.status).toBe(200);
      const getStream = new SseReader(getRes);
      expect(await getStream.nextWithin(5000)).toMatchObject({ data: '', retry: RETRY_MS });

      const [a, b, echo, changed] = await Promise.all([
        session.exchange(toolCall(10, tool('progress'), { steps: 4, intervalMs: 60 }, 'token-a')),
        session.exchange(toolCall(11, tool('progress'), { steps: 3, intervalMs: 90 }, 'token-b')),
        session.exchange(toolCall(12, tool('echo'), { text: 'only mine' })),
        session.exchange(toolCall(13, tool('notifyChanged'), {})),
      ]);
      expect(a).toEqual([...progressOf('token-a', 4), textAnswer(10, 'sent 4 progress notifications')]);
      expect(b).toEqual([...progressOf('token-b', 3), textAnswer(11, 'sent 3 progress notifications')]);
      expect(echo).toEqual([textAnswer(12, 'only mine')]);
      expect(changed).toHaveLength(1);
      expect(changed[0]).toMatchObject({
        id: 13,
        result: { structuredContent: { counter: expect.any(Number) } },
      });

      const expected = [
        { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: uri(COUNTER_URI) } },
        { jsonrpc: '2.0', method: 'notifications/tools/list_changed' },
        { jsonrpc: '2.0', method: 'notifications/resources/list_changed' },
        { jsonrpc: '2.0', method: 'notifications/prompts/list_changed' },
      ];
      const unsolicited: (JsonObject | undefined)[] = [];
      while (!expected.every((n) => unsolicited.some((m) => JSON.stringify(m) === JSON.stringify(n)))) {
        const event = await getStream.nextWithin(5000);
        if (!event) throw new Error('the GET stream ended');
        unsolicited.push(event.message);
      }
      expect(new Set(unsolicited)).toEqual(new Set(expected));
      standalone.abort();
      await session.close();
    });

    // On the replica holding the call, ingress ends it at once; on another, the router answers it.
    for (const cancelReplica of [0, 1]) {
      it(`cancels an in-flight call upstream on notifications/cancelled sent to replica ${cancelReplica}`, async () => {
        const session = await RawSession.open(path);
        const tag = `cancel-${randomUUID()}`;
        let nextId = 100;
        const outcome = async (): Promise<string> => {
          const [answer] = await session.exchange(toolCall(nextId++, tool('wasCancelled'), { tag }));
          return WasCancelledAnswer.parse(answer).result.structuredContent.outcome;
        };
        const pending = session.exchange(toolCall(20, tool('slow'), { ms: 30_000, tag }));
        await waitUntil(async () => (await outcome()) === 'running', 5000, 'the slow call to start');
        const ack = await session.post(
          {
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: 20, reason: 'streams e2e' },
          },
          { replica: cancelReplica },
        );
        expect(ack.status).toBe(202);
        const answer = await pending;
        expect(answer).toHaveLength(1);
        expect(answer[0]).toMatchObject({ jsonrpc: '2.0', id: 20, error: { code: -32800 } });
        await waitUntil(async () => (await outcome()) === 'cancelled', 5000, 'the fixture to see the abort');
        await session.close();
      });
    }
  });
}
