/**
 * Transport bridging through a whole in-process gateway with two ingress replicas: a real SDK v1 client on
 * the legacy HTTP+SSE transport, pinned to 2024-11-05, reaches the feature fixture over Streamable HTTP
 * (`fx`), over stdio (`fxs`) and over legacy HTTP+SSE (`fxsse`), per server and federated, with its stream
 * on the first replica and every POST landing on the second: initialize, tools/list, tools/call with
 * structured output (seen as text at 2024-11-05), progress, a sampling round trip, a resource read and a
 * prompt. And the other way round: a Streamable HTTP client at 2025-11-25 reaches the legacy SSE upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  FIXTURE_TEXT,
  featureServerStdioCommand,
  federatedNaming,
  perServerNaming,
  pinProtocolVersion,
  startFeatureServerHttp,
  startFeatureServerSse,
  type FeatureHttpServer,
  type FeatureSseServer,
  type Naming,
} from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

const LEGACY = '2024-11-05';
/** What the agent's sampling handler answers; the fixture's `sample` tool returns it as its text. */
const SAMPLED = 'sampled by the legacy agent';
const SLOW = 60_000;

let gateway: Gateway;
let fixtureHttp: FeatureHttpServer;
let fixtureSse: FeatureSseServer;

beforeAll(async () => {
  [fixtureHttp, fixtureSse] = await Promise.all([startFeatureServerHttp(), startFeatureServerSse()]);
  const stdio = featureServerStdioCommand();
  gateway = await startGateway({
    servers: {
      fx: { url: fixtureHttp.url, type: 'http' },
      fxs: { command: stdio.command, args: stdio.args },
      fxsse: { url: fixtureSse.url, type: 'sse' },
    },
    ingressReplicas: 2,
  });
}, SLOW);

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([fixtureHttp?.close(), fixtureSse?.close()]);
});

/** A client with a sampling handler that answers SAMPLED. */
function samplingClient(name: string): Client {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: 'assistant',
    content: { type: 'text', text: SAMPLED },
    model: 'legacy-test-model',
  }));
  return client;
}

/** A legacy client whose stream is on replica 0 and whose POSTs all go to replica 1. */
async function connectLegacy(
  path: string,
): Promise<{ client: Client; version: string | undefined; posts: string[] }> {
  const posts: string[] = [];
  const second = new URL(gateway.ingress[1]!.url);
  const postsToSecond: typeof fetch = (input, init) => {
    if (init?.method !== 'POST') return fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    url.host = second.host;
    posts.push(url.pathname);
    return fetch(url, init);
  };
  const transport = new SSEClientTransport(new URL(`${gateway.ingress[0]!.url}${path}`), {
    fetch: postsToSecond,
  });
  const negotiated = pinProtocolVersion(transport, LEGACY);
  const client = samplingClient('legacy-e2e');
  await client.connect(transport);
  return { client, version: negotiated(), posts };
}

/** The text of a result's first content block ('' when it has none). */
function text(result: unknown): string {
  const first = (result as { content?: { type: string; text?: string }[] }).content?.[0];
  return first?.type === 'text' ? (first.text ?? '') : '';
}

/** Every operation of the brief, by one client on one endpoint whose names follow `naming`. */
async function exercise(client: Client, naming: Naming): Promise<void> {
  const tool = naming.tool.toWire;
  const names = (await client.listTools()).tools.map((t) => t.name);
  expect(names).toEqual(expect.arrayContaining(['echo', 'add', 'progress', 'sample'].map(tool)));

  expect(text(await client.callTool({ name: tool('echo'), arguments: { text: 'grüße' } }))).toBe('grüße');

  const sum = await client.callTool({ name: tool('add'), arguments: { a: 2, b: 3 } });
  expect(JSON.parse(text(sum))).toEqual({ sum: 5 });

  // The last notification may share a network read with the response; the SDK client then sees it late.
  const progress: number[] = [];
  const counted = await client.callTool(
    { name: tool('progress'), arguments: { steps: 3, intervalMs: 50 } },
    undefined,
    { onprogress: (p) => progress.push(p.progress) },
  );
  expect(text(counted)).toBe('sent 3 progress notifications');
  expect(progress.slice(0, 2)).toEqual([1, 2]);

  const sampled = await client.callTool({ name: tool('sample'), arguments: { prompt: 'say something' } });
  expect(text(sampled)).toBe(SAMPLED);

  const read = await client.readResource({ uri: naming.uri.toWire('fixture://text') });
  expect(read.contents).toEqual([
    { uri: naming.uri.toWire('fixture://text'), mimeType: 'text/plain', text: FIXTURE_TEXT },
  ]);

  const prompt = await client.getPrompt({ name: naming.prompt.toWire('greet'), arguments: { name: 'Ada' } });
  expect(prompt.messages).toEqual([
    { role: 'user', content: { type: 'text', text: 'Greet Ada in a casual style.' } },
  ]);
}

describe('a 2024-11-05 agent over legacy HTTP+SSE, POSTs on another replica', () => {
  const cells: [string, string, Naming][] = [
    ['a Streamable HTTP upstream', '/servers/fx/sse', perServerNaming],
    ['a stdio upstream', '/servers/fxs/sse', perServerNaming],
    ['a legacy HTTP+SSE upstream', '/servers/fxsse/sse', perServerNaming],
    ['the federated endpoint (Streamable HTTP upstream)', '/sse', federatedNaming('fx')],
    ['the federated endpoint (stdio upstream)', '/sse', federatedNaming('fxs')],
    ['the federated endpoint (legacy HTTP+SSE upstream)', '/sse', federatedNaming('fxsse')],
  ];
  for (const [name, path, naming] of cells) {
    it(
      `reaches ${name}`,
      async () => {
        const { client, version, posts } = await connectLegacy(path);
        try {
          expect(version).toBe(LEGACY);
          await exercise(client, naming);
          const postPath = path.replace(/sse$/, 'messages');
          expect(posts.length).toBeGreaterThan(5);
          expect(new Set(posts)).toEqual(new Set([postPath]));
        } finally {
          await client.close();
        }
      },
      SLOW,
    );
  }

  it(
    'sees structured output as text, without fields its version cannot read',
    async () => {
      const { client } = await connectLegacy('/servers/fx/sse');
      try {
        const listed = (await client.listTools()).tools.find((t) => t.name === 'add')!;
        expect(listed).not.toHaveProperty('outputSchema');
        expect(listed).not.toHaveProperty('title');
        const sum = await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } });
        expect(sum).not.toHaveProperty('structuredContent');
        expect(JSON.parse(text(sum))).toEqual({ sum: 2 });
      } finally {
        await client.close();
      }
    },
    SLOW,
  );
});

describe('a Streamable HTTP agent reaching a legacy HTTP+SSE upstream', () => {
  it(
    'does every operation at 2025-11-25, per server and federated',
    async () => {
      for (const [path, naming] of [
        ['/servers/fxsse/mcp', perServerNaming],
        ['/mcp', federatedNaming('fxsse')],
      ] as const) {
        const client = samplingClient('streamable-e2e');
        await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.ingress[1]!.url}${path}`)));
        try {
          expect(client.getServerVersion()).toBeDefined();
          await exercise(client, naming);
          const sum = await client.callTool({ name: naming.tool.toWire('add'), arguments: { a: 4, b: 4 } });
          expect(sum.structuredContent).toEqual({ sum: 8 });
        } finally {
          await client.close();
        }
      }
    },
    SLOW,
  );
});
