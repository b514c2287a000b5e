/**
 * JSON-RPC batches of a 2025-03-26 agent through a whole in-process gateway to the feature fixture over
 * Streamable HTTP, in raw HTTP (SDK clients send no batches): a mixed batch answered as one JSON array
 * whose ids match, each request really served upstream; a batch whose call streams progress answered as
 * SSE with every response; a batch of 1,000 requests and a batch in a 2025-06-18 session refused with one
 * -32600 error, the session served on afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@meshgate/contracts';
import { FIXTURE_TEXT, startFeatureServerHttp, type FeatureHttpServer } from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

type Json = Record<string, unknown>;

let gateway: Gateway;
let fixture: FeatureHttpServer;

beforeAll(async () => {
  fixture = await startFeatureServerHttp();
  gateway = await startGateway({ servers: { fx: { url: fixture.url, type: 'http' } } });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fixture?.close();
});

const endpoint = () => gateway.mcpUrl({ server: 'fx' });

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(endpoint(), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

/** Opens a session at `version`; a 2025-03-26 client sends no MCP-Protocol-Version header afterwards. */
async function open(version: string): Promise<Record<string, string>> {
  const init = await post({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'batch-e2e', version: '1' } },
  });
  expect(init.status).toBe(200);
  expect(await init.json()).toMatchObject({ result: { protocolVersion: version } });
  const headers: Record<string, string> = { 'mcp-session-id': init.headers.get('mcp-session-id')! };
  if (version !== '2025-03-26') headers['mcp-protocol-version'] = version;
  expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status).toBe(202);
  return headers;
}

/** The JSON-RPC messages of an SSE body (the empty data of a priming event skipped). */
function sseMessages(body: string): Json[] {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line.length > 'data: '.length)
    .map((line) => JSON.parse(line.slice('data: '.length)) as Json);
}

const call = (id: number | string, name: string, args: Json, meta?: Json) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
});

describe('batches of a 2025-03-26 agent', () => {
  it('answers a mixed batch with one JSON array, every request served upstream', async () => {
    const headers = await open('2025-03-26');
    const res = await post(
      [
        call(1, 'echo', { text: 'one' }),
        { jsonrpc: '2.0', id: 'read', method: 'resources/read', params: { uri: 'fixture://text' } },
        {
          jsonrpc: '2.0',
          id: 'prompt',
          method: 'prompts/get',
          params: { name: 'greet', arguments: { name: 'Ada' } },
        },
        { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
        { jsonrpc: '2.0', id: 4, method: 'ping' },
        call(5, 'add', { a: 2, b: 3 }),
      ],
      headers,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const answers = new Map(((await res.json()) as Json[]).map((a) => [a['id'], a]));
    expect([...answers.keys()].sort()).toEqual([1, 4, 5, 'prompt', 'read'].sort());
    expect(answers.get(1)).toMatchObject({ result: { content: [{ type: 'text', text: 'one' }] } });
    expect(answers.get('read')).toMatchObject({ result: { contents: [{ text: FIXTURE_TEXT }] } });
    expect(answers.get('prompt')).toMatchObject({
      result: { messages: [{ content: { text: 'Greet Ada in a casual style.' } }] },
    });
    expect(answers.get(4)).toEqual({ jsonrpc: '2.0', id: 4, result: {} });
    // 2025-03-26 has no structured output: the sum arrives as text only.
    const sum = answers.get(5)!['result'] as Json;
    expect(sum).not.toHaveProperty('structuredContent');
    expect(JSON.stringify(sum['content'])).toContain('5');
  });

  it('streams a batch whose call sends progress, with every response before the end', async () => {
    const headers = await open('2025-03-26');
    const res = await post(
      [
        call(1, 'progress', { steps: 2, intervalMs: 20 }, { progressToken: 'p1' }),
        call(2, 'echo', { text: 'two' }),
      ],
      headers,
    );
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const messages = sseMessages(await res.text());
    const progress = messages.filter((m) => m['method'] === 'notifications/progress');
    expect(progress.map((p) => (p['params'] as Json)['progressToken'])).toEqual(['p1', 'p1']);
    const responses = messages.filter((m) => 'result' in m || 'error' in m);
    expect(responses.map((r) => r['id']).sort()).toEqual([1, 2]);
    expect(messages.at(-1)).toHaveProperty('result');
  });

  it('refuses a batch of 1,000 requests at once with one -32600 error, and serves the session on', async () => {
    const headers = await open('2025-03-26');
    const big = Array.from({ length: 1000 }, (_, i) => call(i, 'echo', { text: String(i) }));
    const res = await post(big, headers);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ id: null, error: { code: ErrorCodes.InvalidRequest } });
    const after = await post([call(7, 'echo', { text: 'still here' })], headers);
    expect(await after.json()).toEqual([
      expect.objectContaining({
        id: 7,
        result: expect.objectContaining({ content: [{ type: 'text', text: 'still here' }] }),
      }),
    ]);
  });

  it('refuses a batch in a 2025-06-18 session', async () => {
    const headers = await open('2025-06-18');
    const res = await post([call(1, 'echo', { text: 'x' })], headers);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: ErrorCodes.InvalidRequest,
        message: 'Invalid Request: batches are not supported in 2025-06-18',
      },
    });
  });
});
