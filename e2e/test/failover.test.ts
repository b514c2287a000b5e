/**
 * Failover at process level: the real launchers of registry, policy service, two router replicas and two ingress replicas
 * on a private nats-server, upstreams the feature fixture over Streamable HTTP (in this process) and over
 * stdio (spawned by each router). An SDK client keeps one session while its router replica, then its
 * ingress replica, is killed with SIGKILL; a call in flight on a killed router ends in a JSON-RPC error.
 * The tests run in order and share the gateway: each one starts from the state the previous one left.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm, type KV } from '@nats-io/kv';
import { Svcm } from '@nats-io/services';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  McpError,
  ProgressNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { Bus, decodeJson } from '@meshgate/bus';
import { Buckets, ErrorCodes, SessionRecord } from '@meshgate/contracts';
import {
  LATEST_ERA,
  PROBE_CAPABILITIES,
  PROBE_CLIENT_INFO,
  connectHttpProbe,
  featureServerStdioCommand,
  firstText,
  freePort,
  spawnNats,
  startFeatureServerHttp,
  waitUntil,
  type FeatureHttpServer,
  type Probe,
  type SpawnedNats,
} from '@meshgate/testing';
import { httpOk, outputs, spawnService, stopAll, waitReady, type ManagedProcess } from '../src/processes';

const READY_MS = 30_000;

let nats: SpawnedNats;
let fixture: FeatureHttpServer;
let dir: string;
let env: Record<string, string>;
let bus: Bus;
let sessions: KV;
const procs: ManagedProcess[] = [];
const ingress = {} as Record<'a' | 'b', { proc: ManagedProcess; url: string }>;
const routers = new Map<string, ManagedProcess>();
/** The federated session on ingress A, and a per-server session (`/servers/fx/mcp`) beside it. */
let probe: Probe;
let perServer: Probe;
/** The federated session's client on ingress B, after A died. */
let onB: Client;
const timings: Record<string, number> = {};

/** The router instance ids that answer `$SRV.PING.meshgate-router` right now. */
async function liveRouters(): Promise<Set<string>> {
  const ids = new Set<string>();
  try {
    for await (const identity of await new Svcm(bus.nc)
      .client({ strategy: 'timer', maxWait: 300 })
      .ping('meshgate-router'))
      if (identity.metadata?.['instance']) ids.add(identity.metadata['instance']);
  } catch {
    // No replica answers yet (no responders).
  }
  return ids;
}

async function startRouter(id: string): Promise<void> {
  const proc = spawnService('router', { ...env, INSTANCE_ID: id }, id);
  procs.push(proc);
  routers.set(id, proc);
  await waitReady(proc, async () => (await liveRouters()).has(id), READY_MS, 'answering $SRV.PING');
}

async function startIngress(name: 'a' | 'b'): Promise<void> {
  const port = await freePort();
  const proc = spawnService(
    'ingress',
    { ...env, PORT: String(port), INSTANCE_ID: `ingress-${name}` },
    `ingress-${name}`,
  );
  procs.push(proc);
  ingress[name] = { proc, url: `http://127.0.0.1:${port}` };
  await waitReady(proc, () => httpOk(`${ingress[name].url}/readyz`), READY_MS, 'ready');
}

async function pinnedRouter(client: Client): Promise<string> {
  const sid = (client.transport as StreamableHTTPClientTransport).sessionId!;
  const entry = await sessions.get(sid);
  if (!entry) throw new Error(`no session record for ${sid.slice(0, 8)}`);
  return decodeJson(SessionRecord, entry.value, 'session record').router;
}

const echo = async (client: Client, tool: string, text: string) =>
  expect(firstText(await client.callTool({ name: tool, arguments: { text } }))).toBe(text);

beforeAll(async () => {
  [nats, fixture] = await Promise.all([spawnNats(), startFeatureServerHttp()]);
  dir = mkdtempSync(join(tmpdir(), 'mg-failover-'));
  const stdio = featureServerStdioCommand();
  const config = { mcpServers: { fx: { url: fixture.url, type: 'http' }, fxs: stdio } };
  writeFileSync(join(dir, 'meshgate.json'), JSON.stringify(config));
  // Policies enforced by the routers (the policy service runs); agents unauthenticated (MESHGATE_AUTH=none).
  env = {
    NATS_URL: nats.url,
    LOG_LEVEL: 'warn',
    MESHGATE_CONFIG: join(dir, 'meshgate.json'),
    MESHGATE_AUTH: 'none',
  };
  bus = await Bus.connect({ url: nats.url, name: 'failover-test' });
  const registryPort = await freePort();
  const registry = spawnService('registry', { ...env, REGISTRY_PORT: String(registryPort) });
  const policyPort = await freePort();
  const policy = spawnService('policy', { ...env, MESHGATE_POLICY_PORT: String(policyPort) });
  procs.push(registry, policy);
  try {
    await Promise.all([
      waitReady(registry, () => httpOk(`http://127.0.0.1:${registryPort}/readyz`), READY_MS),
      waitReady(policy, () => httpOk(`http://127.0.0.1:${policyPort}/readyz`), READY_MS),
      startRouter('router-a'),
      startIngress('a'),
      startIngress('b'),
    ]);
    sessions = await new Kvm(bus.nc).open(Buckets.sessions);
    // Both sessions open while router-a is the only replica, so both are pinned to it.
    probe = await connectHttpProbe(`${ingress.a.url}/mcp`);
    perServer = await connectHttpProbe(`${ingress.a.url}/servers/fx/mcp`);
    await startRouter('router-b');
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${outputs(procs)}`);
  }
}, 90_000);

afterAll(async () => {
  const ms = (key: string) => (timings[key] === undefined ? 'not measured' : `${timings[key]} ms`);
  console.log(
    `failover timings: kill -9 of the session's router -> first successful call ${ms('router')} ` +
      `(first over stdio, spawned by the new replica: ${ms('routerStdio')}); ` +
      `kill -9 of its ingress -> first successful call on the other ingress ${ms('ingress')}; ` +
      `kill -9 of a router holding a call -> JSON-RPC error ${ms('inflight')}`,
  );
  await Promise.all([probe?.close(), perServer?.close(), onB?.close()].map((p) => p?.catch(() => undefined)));
  await stopAll(procs);
  await bus?.close();
  await nats?.stop();
  await fixture?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('failover, process level', () => {
  it('serves a session on ingress A through router-a: echo, progress, sampling, a resource', async () => {
    const client = probe.client;
    expect(await pinnedRouter(client)).toBe('router-a');
    expect(await pinnedRouter(perServer.client)).toBe('router-a');
    await echo(client, 'fx__echo', 'over http');
    await echo(client, 'fxs__echo', 'over stdio');
    const progressToken = `progress-${randomUUID()}`;
    await client.callTool({
      name: 'fxs__progress',
      arguments: { steps: 3, intervalMs: 5 },
      _meta: { progressToken },
    });
    await waitUntil(
      () => probe.progressFor(progressToken).length === 3,
      5000,
      'three progress notifications',
    );
    expect(firstText(await client.callTool({ name: 'fx__sample', arguments: { prompt: 'hi' } }))).toBe(
      'sampled: hi',
    );
    const read = await client.readResource({ uri: 'fx+fixture://text' });
    expect(read.contents[0]).toMatchObject({ uri: 'fx+fixture://text', mimeType: 'text/plain' });
    await echo(perServer.client, 'echo', 'per server');
  });

  it('kill -9 of the router holding the session: the next calls succeed on the surviving replica', async () => {
    const killedAt = Date.now();
    await routers.get('router-a')!.kill9();
    // The very first call after the kill succeeds: NATS answers "no responders" for the dead replica at
    // once, and ingress re-sends the call to the queue subject. router-b opens its upstream connections
    // now: Streamable HTTP first, then stdio (it spawns its own fixture process).
    await echo(probe.client, 'fx__echo', 'after router kill');
    timings['router'] = Date.now() - killedAt;
    await echo(probe.client, 'fxs__echo', 'after router kill, over stdio');
    timings['routerStdio'] = Date.now() - killedAt;
    expect(await pinnedRouter(probe.client)).toBe('router-b');
    const tools = (await probe.client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['fx__echo', 'fxs__echo', 'fx__sample', 'fxs__slow']));
    await echo(perServer.client, 'echo', 'per server after router kill');
    expect(await pinnedRouter(perServer.client)).toBe('router-b');
    expect(
      firstText(await probe.client.callTool({ name: 'fx__sample', arguments: { prompt: 'again' } })),
    ).toBe('sampled: again');
  });

  it('kill -9 of ingress A: the same session id goes on on ingress B', async () => {
    const sessionId = (probe.client.transport as StreamableHTTPClientTransport).sessionId!;
    const killedAt = Date.now();
    await ingress.a.proc.kill9();
    await probe.close().catch(() => undefined);
    onB = new Client(PROBE_CLIENT_INFO, { capabilities: PROBE_CAPABILITIES[LATEST_ERA] });
    const progressOnB: unknown[] = [];
    onB.setNotificationHandler(
      ProgressNotificationSchema,
      (n) => void progressOnB.push(n.params.progressToken),
    );
    onB.setRequestHandler(CreateMessageRequestSchema, () => ({
      role: 'assistant',
      model: 'failover-model',
      content: { type: 'text', text: 'sampled on B' },
    }));
    const transport = new StreamableHTTPClientTransport(new URL(`${ingress.b.url}/mcp`), { sessionId });
    transport.setProtocolVersion(probe.protocolVersion);
    await onB.connect(transport);
    await echo(onB, 'fx__echo', 'on ingress B');
    timings['ingress'] = Date.now() - killedAt;
    expect(transport.sessionId).toBe(sessionId);
    await echo(onB, 'fxs__echo', 'stdio on ingress B');
    const progressToken = `progress-${randomUUID()}`;
    await onB.callTool({ name: 'fxs__progress', arguments: { steps: 2 }, _meta: { progressToken } });
    await waitUntil(() => progressOnB.filter((p) => p === progressToken).length === 2, 5000, 'progress on B');
    expect(firstText(await onB.callTool({ name: 'fx__sample', arguments: { prompt: 'b' } }))).toBe(
      'sampled on B',
    );
    const read = await onB.readResource({ uri: 'fx+fixture://text' });
    expect(read.contents).toHaveLength(1);
  });

  it('a call in flight on a router that dies gets a JSON-RPC error, and the session goes on', async () => {
    await startRouter('router-c');
    expect(await pinnedRouter(onB)).toBe('router-b');
    const tag = randomUUID();
    const pending = onB
      .callTool({ name: 'fx__slow', arguments: { ms: 60_000, tag } }, undefined, { timeout: 30_000 })
      .then(
        () => new Error('the slow call completed'),
        (err: unknown) => err,
      );
    await waitUntil(() => fixture.state.slowCall(tag) === 'running', 5000, 'the slow call to start upstream');
    const killedAt = Date.now();
    await routers.get('router-b')!.kill9();
    const err = await pending;
    timings['inflight'] = Date.now() - killedAt;
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCodes.UpstreamUnavailable);
    // The gateway's answer, not the SDK's own request timeout (which has the same code).
    expect((err as McpError).message).toMatch(/router replica holding the call is gone/);
    expect(timings['inflight']).toBeLessThan(10_000);
    await echo(onB, 'fxs__echo', 'after the in-flight failure');
    expect(await pinnedRouter(onB)).toBe('router-c');
  }, 60_000);
});
