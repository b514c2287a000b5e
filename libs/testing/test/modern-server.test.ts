/**
 * The 2026-07-28-only fixture (modern-server) over HTTP and stdio, driven by the SDK v2 client pinned to
 * 2026-07-28: discovery, structured output, progress, input_required rounds (elicitation, sampling, roots)
 * answered by the client's own handlers, a resource, a prompt, and a 2025-era initialize refused.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import {
  MODERN_GREETING_TEXT,
  MODERN_GREETING_URI,
  MODERN_SERVER_INFO,
  modernServerStdioCommand,
  startModernServerHttp,
  type ModernHttpServer,
} from '../src/index';

/** A pinned 2026-07-28 client that accepts every elicitation, samples a fixed answer and has one root. */
async function modernClient(transport: Transport): Promise<Client> {
  const client = new Client(
    { name: 'modern-test', version: '1' },
    {
      capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
      versionNegotiation: { mode: { pin: '2026-07-28' } },
    },
  );
  client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { confirmed: true } }));
  client.setRequestHandler('sampling/createMessage', () => ({
    role: 'assistant',
    content: { type: 'text', text: 'short' },
    model: 'test-model',
  }));
  client.setRequestHandler('roots/list', () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
  await client.connect(transport);
  return client;
}

const Envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** Writes `messages` to a fresh stdio fixture, one after the other's answer, and returns every line it wrote. */
async function rawStdio(messages: object[]): Promise<Record<string, unknown>[]> {
  const { command, args } = modernServerStdioCommand();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines: Record<string, unknown>[] = [];
  let next = 0;
  const write = () => child.stdin.write(`${JSON.stringify(messages[next++])}\n`);
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    lines.push(message);
    if (!('id' in message)) return;
    if (next < messages.length) write();
    else child.stdin.end();
  });
  write();
  await new Promise((resolve) => child.once('close', resolve));
  return lines;
}

function suite(connect: () => Promise<Client>): void {
  let client: Client;
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(async () => {
    await client?.close();
  });

  it('is discovered as a 2026-07-28 server with its identity', () => {
    expect(client.getServerVersion()).toMatchObject(MODERN_SERVER_INFO);
    expect(client.getServerCapabilities()).toMatchObject({ resources: { subscribe: true } });
  });

  it('lists its tools and answers with structured output', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'weather',
      'countdown',
      'wait',
      'confirm',
      'summarize',
      'roots',
      'touch',
    ]);
    const weather = await client.callTool({ name: 'weather', arguments: { city: 'Oslo' } });
    expect(weather.structuredContent).toEqual({ city: 'Oslo', temperatureC: 21.5, conditions: 'clear' });
  });

  it('asks for elicitation, sampling and roots through input_required', async () => {
    const confirm = await client.callTool({ name: 'confirm', arguments: { action: 'deploy' } });
    expect(confirm.content).toEqual([{ type: 'text', text: 'deploy: confirmed' }]);
    const summary = await client.callTool({ name: 'summarize', arguments: { text: 'long text' } });
    expect(summary.content).toEqual([{ type: 'text', text: 'summary: short' }]);
    const roots = await client.callTool({ name: 'roots', arguments: {} });
    expect(roots.content).toEqual([{ type: 'text', text: 'roots: file:///work' }]);
  });

  it('reads its resource and gets its prompt', async () => {
    const read = await client.readResource({ uri: MODERN_GREETING_URI });
    expect(read.contents).toEqual([
      { uri: MODERN_GREETING_URI, mimeType: 'text/plain', text: MODERN_GREETING_TEXT },
    ]);
    const prompt = await client.getPrompt({ name: 'haiku', arguments: { topic: 'eras' } });
    expect(prompt.messages).toEqual([
      { role: 'user', content: { type: 'text', text: 'Write a haiku about eras.' } },
    ]);
  });
}

describe('modern fixture over HTTP', () => {
  let server: ModernHttpServer;
  beforeAll(async () => {
    server = await startModernServerHttp();
  });
  afterAll(async () => {
    await server?.close();
  });

  suite(() => modernClient(new StreamableHTTPClientTransport(new URL(server.url))));

  it('reports progress on the request token', async () => {
    const http = await modernClient(new StreamableHTTPClientTransport(new URL(server.url)));
    const seen: number[] = [];
    const out = await http.callTool(
      { name: 'countdown', arguments: { steps: 3 } },
      { onprogress: (p) => seen.push(p.progress) },
    );
    expect(out.content).toEqual([{ type: 'text', text: 'counted down 3 steps' }]);
    expect(seen).toEqual([1, 2, 3]);
    await http.close();
  });

  it('refuses a 2025-era initialize with the unsupported-version error', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'old', version: '1' },
        },
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32022, data: { supported: ['2026-07-28'] } } });
    expect(server.received('initialize')).toBe(1);
  });
});

describe('modern fixture over stdio', () => {
  suite(() => {
    const { command, args } = modernServerStdioCommand();
    return modernClient(new StdioClientTransport({ command, args, stderr: 'ignore' }));
  });

  it('reports progress on the request token before the result', async () => {
    const lines = await rawStdio([
      { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: Envelope } },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'countdown', arguments: { steps: 3 }, _meta: { ...Envelope, progressToken: 7 } },
      },
    ]);
    expect(
      lines.slice(1).map((m) => (m['params'] as { progress?: number } | undefined)?.progress ?? m['id']),
    ).toEqual([1, 2, 3, 2]);
  });
});
