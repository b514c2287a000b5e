/**
 * A 2026-07-28 agent (the SDK v2 client, `@modelcontextprotocol/client`, pinned to the stateless era)
 * through a whole in-process gateway to the 2025-era feature fixture, over Streamable HTTP (`fx`) and stdio
 * (`fxs`), on the per-server and federated endpoints: discover, tools/list, tools/call with structured
 * output, resources/read, prompts/get, progress, and an elicitation and a sampling round trip through
 * multi round-trip requests (the client answers `input_required` itself), each retry sent to the other
 * ingress replica; `subscriptions/listen` receiving a `resources/updated`; one stateful upstream connection
 * per virtual session (`fxst`), whatever the replica. Hostile input in raw HTTP:
 * forged and expired requestState, each mismatched header, an unknown version.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { Buckets } from '@meshgate/contracts';
import {
  COUNTER_URI,
  ELICIT_FORM_SCHEMA,
  FIXTURE_TEXT,
  featureServerStdioCommand,
  startFeatureServerHttp,
  startModernServerHttp,
  type ModernHttpServer,
  waitUntil,
  type FeatureHttpServer,
} from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

const MODERN = '2026-07-28';

let gateway: Gateway;
let fixtureHttp: FeatureHttpServer;
let modernHttp: ModernHttpServer;

beforeAll(async () => {
  fixtureHttp = await startFeatureServerHttp();
  modernHttp = await startModernServerHttp();
  const stdio = featureServerStdioCommand();
  gateway = await startGateway({
    servers: {
      fx: { url: fixtureHttp.url, type: 'http' },
      fxs: { command: stdio.command, args: stdio.args },
      fxst: { command: stdio.command, args: stdio.args, stateful: true },
      fxm: { url: modernHttp.url, type: 'http' },
    },
    ingressReplicas: 2,
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fixtureHttp?.close();
  await modernHttp?.close();
});

/** Bodies of the POSTs each replica received, to tell where a retry went. */
const seen: { replica: number; body: Record<string, unknown> }[] = [];

/**
 * A fetch that sends every retry carrying a requestState to the replica the previous leg did not use, so
 * each round trip crosses replicas.
 */
function crossingFetch(path: string): typeof fetch {
  let last = 0;
  return async (_input, init) => {
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const params = body['params'] as Record<string, unknown> | undefined;
    const replica = params?.['requestState'] !== undefined ? 1 - last : 0;
    last = replica;
    seen.push({ replica, body });
    return fetch(`${gateway.ingress[replica]!.url}${path}`, init);
  };
}

interface Agent {
  client: Client;
  elicited: unknown[];
  sampled: unknown[];
  close(): Promise<void>;
}

async function connectAgent(path: string): Promise<Agent> {
  const elicited: unknown[] = [];
  const sampled: unknown[] = [];
  const client = new Client(
    { name: 'modern-agent', version: '1.0.0' },
    {
      capabilities: { sampling: {}, elicitation: { form: {} }, roots: {} },
      versionNegotiation: { mode: { pin: MODERN } },
    },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    elicited.push(request.params);
    if (request.params.message.startsWith('Confirm '))
      return { action: 'accept', content: { confirmed: true } };
    return { action: 'accept', content: { color: 'blue', size: 'l', count: 2, notify: false } };
  });
  client.setRequestHandler('sampling/createMessage', async (request) => {
    sampled.push(request.params);
    return { role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'meshgate-test-model' };
  });
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.ingress[0]!.url}${path}`), {
    fetch: crossingFetch(path),
  });
  await client.connect(transport);
  return { client, elicited, sampled, close: () => client.close() };
}

/** How one endpoint names the fixture's tools, prompts and resources. */
interface Naming {
  path: string;
  name(n: string): string;
  uri(u: string): string;
}

const endpoints: [string, Naming][] = [
  ['per-server, Streamable HTTP upstream', { path: '/servers/fx/mcp', name: (n) => n, uri: (u) => u }],
  ['per-server, stdio upstream', { path: '/servers/fxs/mcp', name: (n) => n, uri: (u) => u }],
  ['federated, Streamable HTTP upstream', { path: '/mcp', name: (n) => `fx__${n}`, uri: (u) => `fx+${u}` }],
  ['federated, stdio upstream', { path: '/mcp', name: (n) => `fxs__${n}`, uri: (u) => `fxs+${u}` }],
];

for (const [label, naming] of endpoints) {
  describe(`2026-07-28 agent, ${label}`, () => {
    let agent: Agent;

    beforeAll(async () => {
      agent = await connectAgent(naming.path);
    }, 30_000);

    afterAll(async () => {
      await agent?.close();
    });

    it('negotiates the stateless era with server/discover', () => {
      expect(agent.client.getProtocolEra()).toBe('modern');
      expect(agent.client.getNegotiatedProtocolVersion()).toBe(MODERN);
      const discovered = agent.client.getDiscoverResult();
      expect(discovered?.supportedVersions).toContain(MODERN);
      expect(discovered?.capabilities.tools).toBeDefined();
    });

    it('lists tools and calls one with structured output', async () => {
      const { tools } = await agent.client.listTools();
      const add = tools.find((t) => t.name === naming.name('add'));
      expect(add?.outputSchema).toMatchObject({ properties: { sum: { type: 'number' } } });
      const result = await agent.client.callTool({ name: naming.name('add'), arguments: { a: 2, b: 3 } });
      expect(result.structuredContent).toEqual({ sum: 5 });
      expect(result.content).toEqual([{ type: 'text', text: JSON.stringify({ sum: 5 }) }]);
    });

    it('reads a resource and gets a prompt', async () => {
      const read = await agent.client.readResource({ uri: naming.uri('fixture://text') });
      expect(read.contents).toEqual([
        expect.objectContaining({ uri: naming.uri('fixture://text'), text: FIXTURE_TEXT }),
      ]);
      const prompt = await agent.client.getPrompt({ name: naming.name('greet'), arguments: { name: 'Ada' } });
      expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'Greet Ada in a casual style.' });
    });

    it('receives progress on its own token', async () => {
      const seenProgress: number[] = [];
      const result = await agent.client.callTool(
        { name: naming.name('progress'), arguments: { steps: 3, intervalMs: 5 } },
        { onprogress: (p) => seenProgress.push(p.progress) },
      );
      expect(result.content).toEqual([{ type: 'text', text: 'sent 3 progress notifications' }]);
      expect(seenProgress).toEqual([1, 2, 3]);
    });

    it('answers an elicitation through input_required, the retry on the other replica', async () => {
      const before = seen.length;
      const result = await agent.client.callTool({
        name: naming.name('elicit'),
        arguments: { message: 'Pick' },
      });
      expect(result.structuredContent).toEqual({
        action: 'accept',
        content: { color: 'blue', size: 'l', count: 2, notify: false },
      });
      expect(agent.elicited.at(-1)).toMatchObject({ message: 'Pick', requestedSchema: ELICIT_FORM_SCHEMA });
      const legs = seen.slice(before).filter((s) => s.body['method'] === 'tools/call');
      expect(legs.map((l) => l.replica)).toEqual([0, 1]);
    });

    it('answers a sampling request through input_required', async () => {
      const result = await agent.client.callTool({
        name: naming.name('sample'),
        arguments: { prompt: 'Capital?' },
      });
      expect(result.content).toEqual([{ type: 'text', text: 'Paris' }]);
      expect(agent.sampled.at(-1)).toMatchObject({
        messages: [{ role: 'user', content: { type: 'text', text: 'Capital?' } }],
      });
    });

    it('listens for resources/updated', async () => {
      const updated: string[] = [];
      agent.client.setNotificationHandler('notifications/resources/updated', (n) => {
        updated.push(n.params.uri);
      });
      const sub = await agent.client.listen({ resourceSubscriptions: [naming.uri(COUNTER_URI)] });
      expect(sub.honoredFilter).toEqual({ resourceSubscriptions: [naming.uri(COUNTER_URI)] });
      await agent.client.callTool({ name: naming.name('notifyChanged'), arguments: {} });
      await waitUntil(() => updated.includes(naming.uri(COUNTER_URI)), 10_000);
      await sub.close();
      expect(await sub.closed).toBe('local');
    });
  });
}

describe('a 2026-07-28 upstream behind a 2026-07-28 agent', () => {
  it("hands the upstream's own requestState back with the answers, the retry on the other replica", async () => {
    const agent = await connectAgent('/servers/fxm/mcp');
    try {
      const before = seen.length;
      const result = await agent.client.callTool({ name: 'confirm', arguments: { action: 'ship' } });
      expect(result.content).toEqual([{ type: 'text', text: 'ship: confirmed' }]);
      expect(agent.elicited).toEqual([expect.objectContaining({ message: 'Confirm ship?' })]);
      // The agent saw the gateway's state, never the upstream's; the retry went to the other replica.
      const retries = seen
        .slice(before)
        .filter((s) => s.body['method'] === 'tools/call')
        .slice(1);
      expect(retries).toHaveLength(1);
      const state = (retries[0]!.body['params'] as Record<string, unknown>)['requestState'];
      expect(state).toMatch(/^mg1\./);
      expect(retries[0]!.replica).toBe(1);
      // The upstream ran the tool twice: the first leg and the retry that carried its state back.
      expect(modernHttp.received('tools/call')).toBeGreaterThanOrEqual(2);
    } finally {
      await agent.close();
    }
  });
});

describe('virtual sessions of 2026-07-28 agents', () => {
  it('reuse the upstream connection of a stateful server across requests and replicas', async () => {
    const whoami = async (replica: number, capabilities: Record<string, unknown>) => {
      const client = new Client(
        { name: 'modern-agent', version: '1.0.0' },
        { capabilities, versionNegotiation: { mode: { pin: MODERN } } },
      );
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${gateway.ingress[replica]!.url}/servers/fxst/mcp`)),
      );
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      await client.close();
      return result.structuredContent as { pid: number; connection: string };
    };
    const first = await whoami(0, { roots: {} });
    expect(await whoami(1, { roots: {} })).toMatchObject({ pid: first.pid, connection: first.connection });
    expect(await whoami(0, { roots: {} })).toMatchObject({ pid: first.pid, connection: first.connection });
    // Other capabilities: another virtual session, so another stateful connection.
    expect((await whoami(0, { sampling: {} })).pid).not.toBe(first.pid);
  });
});

describe('hostile 2026-07-28 input', () => {
  const url = () => `${gateway.ingress[0]!.url}/servers/fx/mcp`;
  const envelope = (version = MODERN) => ({
    'io.modelcontextprotocol/protocolVersion': version,
    'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
  });
  const post = (body: Record<string, unknown>, headers: Record<string, string>) =>
    fetch(url(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const callBody = (extra: Record<string, unknown> = {}) => ({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'elicit', arguments: {}, _meta: envelope(), ...extra },
  });
  const good = { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'elicit' };

  it('refuses each mismatched header with -32020 and HTTP 400', async () => {
    for (const headers of [
      { ...good, 'mcp-name': 'echo' },
      { ...good, 'mcp-method': 'tools/list' },
      { ...good, 'mcp-protocol-version': '2025-11-25' },
    ]) {
      const res = await post(callBody(), headers);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ id: 1, error: { code: -32020 } });
    }
  });

  it('refuses an unknown version with -32022 listing the supported ones', async () => {
    const body = { ...callBody(), params: { name: 'elicit', _meta: envelope('2099-01-01') } };
    const res = await post(body, { ...good, 'mcp-protocol-version': '2099-01-01' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: -32022, data: { requested: '2099-01-01', supported: expect.arrayContaining([MODERN]) } },
    });
  });

  it('refuses a forged and an expired requestState with -32602, holding nothing', async () => {
    const first = await post(callBody(), good);
    const { result } = (await first.json()) as { result: { resultType: string; requestState: string } };
    expect(result.resultType).toBe('input_required');
    const [prefix, payload, mac] = result.requestState.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, e: Date.now() + 3_600_000 })).toString(
      'base64url',
    );
    // The replicas' shared key (created in KV at the first start): an expired state with a valid MAC.
    const nc = await connect({ servers: gateway.natsUrl });
    const entry = await (await new Kvm(nc).open(Buckets.ingressSecrets)).get('request-state-key');
    await nc.close();
    const key = Buffer.from(entry!.string(), 'base64url');
    const expiredPayload = Buffer.from(JSON.stringify({ ...claims, e: Date.now() - 1000 })).toString(
      'base64url',
    );
    const expiredMac = createHmac('sha256', key).update(`${prefix}.${expiredPayload}`).digest('base64url');
    for (const [state, reason] of [
      [`${prefix}.${forgedPayload}.${mac}`, 'not issued by this gateway'],
      [`${prefix}.${expiredPayload}.${expiredMac}`, 'expired'],
      ['opaque-upstream-looking-state', 'malformed'],
    ] as const) {
      const res = await post(callBody({ requestState: state }), good);
      expect(await res.json()).toMatchObject({
        error: { code: -32602, message: expect.stringContaining(reason) },
      });
    }
  });
});
