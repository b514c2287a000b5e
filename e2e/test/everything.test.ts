/**
 * The reference server-everything through a whole in-process gateway, as two upstreams: `ev` over stdio
 * and `evh` over Streamable HTTP. Every result an agent gets through `/servers/<name>/mcp` and `/mcp` is
 * compared with what a direct SDK connection to the same upstream gets (the gateway must not change
 * content): initialize, tools/list, echo, structured content, a resource, a prompt, sampling relayed to
 * the agent, and progress on the agent's own token. Request results are read raw (initialize goes through
 * the SDK's handshake), never through the SDK's validating helpers, so nothing the gateway adds or drops
 * is hidden.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ListRootsRequestSchema,
  ProgressNotificationSchema,
  type ClientCapabilities,
  type CreateMessageRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { GatewayClientCapabilities } from '@meshgate/mcp';
import {
  everythingStdioCommand,
  startEverythingHttp,
  waitUntil,
  type EverythingHttpServer,
} from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

type Json = Record<string, unknown>;
const AnyResult = z.looseObject({});
/** A static document of server-everything: its content is a file, the same on every read. */
const DOC_URI = 'demo://resource/static/document/features.md';
const SERVER_INFO = {
  name: 'mcp-servers/everything',
  title: 'Everything Reference Server',
  version: '2.0.0',
};

/** A connected SDK client that answers sampling and roots, and records sampling requests and progress. */
interface Side {
  client: Client;
  sampled: CreateMessageRequest['params'][];
  progress: Json[];
  call(method: string, params?: Json): Promise<Json>;
}

async function connectSide(transport: Transport, capabilities: ClientCapabilities): Promise<Side> {
  const client = new Client({ name: 'e2e-everything', version: '1.0.0' }, { capabilities });
  const sampled: CreateMessageRequest['params'][] = [];
  const progress: Json[] = [];
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    sampled.push(request.params);
    return { role: 'assistant', model: 'e2e-model', content: { type: 'text', text: 'sampled answer' } };
  });
  if (capabilities.roots) client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [] }));
  // Replaces the SDK's own progress routing, which only knows tokens it generated itself.
  client.setNotificationHandler(ProgressNotificationSchema, (n) => void progress.push(n.params));
  await client.connect(transport);
  return {
    client,
    sampled,
    progress,
    call: (method, params) => client.request({ method, params }, AnyResult),
  };
}

let evHttp: EverythingHttpServer;
let gateway: Gateway;
const direct = new Map<string, Side>();
const agents = new Map<string, Side>();

beforeAll(async () => {
  evHttp = await startEverythingHttp();
  const stdio = everythingStdioCommand();
  gateway = await startGateway({
    servers: { ev: { command: stdio.command, args: stdio.args }, evh: { url: evHttp.url, type: 'http' } },
  });
  // Direct clients declare what the gateway declares upstream, so server-everything registers the same
  // capability-dependent tools (sampling, elicitation, roots) for both.
  const upstreamCaps = GatewayClientCapabilities as ClientCapabilities;
  direct.set('ev', await connectSide(new StdioClientTransport({ ...stdio, stderr: 'ignore' }), upstreamCaps));
  direct.set('evh', await connectSide(new StreamableHTTPClientTransport(new URL(evHttp.url)), upstreamCaps));
  for (const [key, url] of [
    ['ev', gateway.mcpUrl({ server: 'ev' })],
    ['evh', gateway.mcpUrl({ server: 'evh' })],
    ['federated', gateway.mcpUrl()],
  ] as const)
    agents.set(key, await connectSide(new StreamableHTTPClientTransport(url), { sampling: {} }));
}, 60_000);

afterAll(async () => {
  for (const side of [...agents.values(), ...direct.values()])
    await side.client.close().catch(() => undefined);
  await gateway?.stop();
  await evHttp?.stop();
});

/** How names and URIs look on one endpoint for one upstream. */
interface Endpoint {
  label: string;
  upstream: 'ev' | 'evh';
  agent: () => Side;
  name: (n: string) => string;
  uri: (u: string) => string;
}

const endpoints: Endpoint[] = (['ev', 'evh'] as const).flatMap((upstream) => [
  {
    label: `/servers/${upstream}/mcp`,
    upstream,
    agent: () => agents.get(upstream)!,
    name: (n: string) => n,
    uri: (u: string) => u,
  },
  {
    label: `/mcp (${upstream})`,
    upstream,
    agent: () => agents.get('federated')!,
    name: (n: string) => `${upstream}__${n}`,
    uri: (u: string) => `${upstream}+${u}`,
  },
]);

/** Items of a list result. */
function items(result: Json, field: string): Json[] {
  return result[field] as Json[];
}

describe('initialize', () => {
  for (const upstream of ['ev', 'evh'] as const) {
    it(`/servers/${upstream}/mcp answers with server-everything's own InitializeResult`, () => {
      const viaGateway = agents.get(upstream)!.client;
      const straight = direct.get(upstream)!.client;
      expect(straight.getServerVersion()).toEqual(SERVER_INFO);
      expect(viaGateway.getServerVersion()).toEqual(SERVER_INFO);
      expect(viaGateway.getServerCapabilities()).toEqual(straight.getServerCapabilities());
      expect(viaGateway.getInstructions()).toEqual(straight.getInstructions());
    });
  }

  it('/mcp is meshgate, federating ev and evh', () => {
    const federated = agents.get('federated')!.client;
    expect(federated.getServerVersion()?.name).toBe('meshgate');
    const lines = federated.getInstructions()?.split('\n') ?? [];
    expect(lines).toEqual(expect.arrayContaining(['- ev', '- evh']));
  });
});

describe('tools/list on /mcp', () => {
  it('holds exactly the tools of both upstreams, namespaced', async () => {
    const names = async (side: Side, prefix = '') =>
      items(await side.call('tools/list'), 'tools').map((t) => `${prefix}${String(t['name'])}`);
    const expected = [
      ...(await names(direct.get('ev')!, 'ev__')),
      ...(await names(direct.get('evh')!, 'evh__')),
    ];
    expect((await names(agents.get('federated')!)).sort()).toEqual(expected.sort());
  });
});

for (const ep of endpoints) {
  describe(ep.label, () => {
    const straight = () => direct.get(ep.upstream)!;
    /** A tools/call through the gateway and directly, with the same arguments. */
    const callBoth = async (tool: string, args: Json, meta?: Json) => {
      const params = (name: string) => ({ name, arguments: args, ...(meta ? { _meta: meta } : {}) });
      const viaGateway = await ep.agent().call('tools/call', params(ep.name(tool)));
      const straightResult = await straight().call('tools/call', params(tool));
      return { viaGateway, straight: straightResult };
    };

    it('lists the same tools as a direct connection, only the name namespaced', async () => {
      const prefix = ep.name('');
      const viaGateway = items(await ep.agent().call('tools/list'), 'tools')
        .filter((t) => String(t['name']).startsWith(prefix))
        .map((t) => ({ ...t, name: String(t['name']).slice(prefix.length) }));
      const straightTools = items(await straight().call('tools/list'), 'tools');
      expect(straightTools.map((t) => t['name'])).toEqual(
        expect.arrayContaining([
          'echo',
          'get-structured-content',
          'trigger-sampling-request',
          'trigger-long-running-operation',
        ]),
      );
      expect(viaGateway).toEqual(straightTools);
    });

    it('calls echo', async () => {
      const out = await callBoth('echo', { message: 'through the gateway' });
      expect(out.straight).toEqual({ content: [{ type: 'text', text: 'Echo: through the gateway' }] });
      expect(out.viaGateway).toEqual(out.straight);
    });

    it('calls get-structured-content', async () => {
      const out = await callBoth('get-structured-content', { location: 'Chicago' });
      expect(out.straight['structuredContent']).toEqual({
        temperature: 36,
        conditions: 'Light rain / drizzle',
        humidity: 82,
      });
      expect(out.viaGateway).toEqual(out.straight);
    });

    it('reads a static document resource', async () => {
      const viaGateway = await ep.agent().call('resources/read', { uri: ep.uri(DOC_URI) });
      const straightResult = await straight().call('resources/read', { uri: DOC_URI });
      const contents = items(straightResult, 'contents');
      expect(contents).toEqual([
        { uri: DOC_URI, mimeType: 'text/markdown', text: expect.stringContaining('#') as unknown },
      ]);
      expect(viaGateway).toEqual({
        ...straightResult,
        contents: contents.map((c) => ({ ...c, uri: ep.uri(String(c['uri'])) })),
      });
    });

    it('gets args-prompt with its arguments', async () => {
      const args = { city: 'Paris', state: 'Texas' };
      const viaGateway = await ep
        .agent()
        .call('prompts/get', { name: ep.name('args-prompt'), arguments: args });
      const straightResult = await straight().call('prompts/get', { name: 'args-prompt', arguments: args });
      expect(straightResult['messages']).toEqual([
        { role: 'user', content: { type: 'text', text: "What's weather in Paris, Texas?" } },
      ]);
      expect(viaGateway).toEqual(straightResult);
    });

    it('relays trigger-sampling-request to the agent and its answer back', async () => {
      const agentSeen = ep.agent().sampled.length;
      const straightSeen = straight().sampled.length;
      const out = await callBoth('trigger-sampling-request', { prompt: `from ${ep.label}`, maxTokens: 7 });
      expect(JSON.stringify(out.straight)).toContain('sampled answer');
      expect(out.viaGateway).toEqual(out.straight);
      expect(straight().sampled.slice(straightSeen)).toHaveLength(1);
      expect(ep.agent().sampled.slice(agentSeen)).toEqual(straight().sampled.slice(straightSeen));
    });

    it("relays trigger-long-running-operation's progress on the agent's own token", async () => {
      const token = `progress ${ep.label}`;
      const out = await callBoth(
        'trigger-long-running-operation',
        { duration: 0.2, steps: 2 },
        {
          progressToken: token,
        },
      );
      expect(out.viaGateway).toEqual(out.straight);
      const expected = [1, 2].map((progress) => ({ progress, total: 2, progressToken: token }));
      const of = (side: Side) => side.progress.filter((p) => p['progressToken'] === token);
      await waitUntil(() => of(ep.agent()).length >= 2 && of(straight()).length >= 2, 5000, 'progress');
      expect(of(straight())).toEqual(expected);
      expect(of(ep.agent())).toEqual(expected);
    });
  });
}
