/**
 * `meshgate start` as a user runs it: from a directory without meshgate.yaml (so the registry seeds the
 * demo upstream, server-everything over stdio), with NATS_URL on a loopback port where nothing listens (so
 * the command starts its own nats-server), and the admin key given in MESHGATE_API_KEY (the nats-server's
 * store under the repository's .meshgate/ outlives runs, so a key created on a first run would not be
 * shown again). It must print where agents connect, refuse an MCP client without a key, serve one with
 * the key there (the bundled policy lets agents use everything), and on Ctrl-C (SIGINT) stop everything it
 * started and exit 0, leaving no process and no port behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { generateApiKey } from '@meshgate/auth';
import { firstText, freePort, tcpAnswers, waitUntil } from '@meshgate/testing';
import {
  REPO_ROOT,
  commandLine,
  descendantPids,
  outputs,
  pidAlive,
  spawnProcess,
  waitReady,
  type ManagedProcess,
} from '../src/processes';

const BANNER = 'Meshgate is ready.';

let dir: string;
let ports: { nats: number; ingress: number; registry: number; audit: number; policy: number };
let meshgate: ManagedProcess;
const adminKey = generateApiKey().apiKey;
/** Every process `meshgate start` ran, seen while it was up: pid -> command line. */
const seen = new Map<number, string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mg-start-'));
  ports = {
    nats: await freePort(),
    ingress: await freePort(),
    registry: await freePort(),
    audit: await freePort(),
    policy: await freePort(),
  };
  meshgate = spawnProcess({
    name: 'meshgate start',
    command: process.execPath,
    args: [join(REPO_ROOT, 'libs/cli/bin/meshgate.mjs'), 'start'],
    cwd: dir,
    env: {
      NATS_URL: `nats://127.0.0.1:${ports.nats}`,
      PORT: String(ports.ingress),
      REGISTRY_PORT: String(ports.registry),
      AUDIT_PORT: String(ports.audit),
      MESHGATE_POLICY_PORT: String(ports.policy),
      MESHGATE_API_KEY: adminKey,
      LOG_LEVEL: 'warn',
    },
  });
  await waitReady(meshgate, async () => meshgate.output().includes(BANNER), 60_000, 'printing its banner');
}, 70_000);

afterAll(async () => {
  // Only reached with processes left when a test failed: end them by id.
  const left = new Map([
    ...seen,
    ...descendantPids(meshgate?.pid ?? -1).map((pid) => [pid, commandLine(pid)] as const),
  ]);
  for (const [pid, command] of left)
    if (pidAlive(pid) && commandLine(pid) === command) process.kill(pid, 'SIGKILL');
  await meshgate?.stop(1000);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('meshgate start', () => {
  it('prints the MCP URL and a client configuration for it', () => {
    const out = meshgate.output();
    const mcpUrl = `http://127.0.0.1:${ports.ingress}/mcp`;
    expect(out).toMatch(/not found: the registry starts with the demo upstream/);
    expect(out).toContain(`MCP endpoint (all servers, federated):  ${mcpUrl}`);
    expect(out).toContain(`http://127.0.0.1:${ports.registry}/v1/servers`);
    expect(out).toMatch(/Upstream servers: .*everything \(stdio\)/);
    const configLine = out.split('\n').find((line) => line.trim().startsWith('{"mcpServers"'));
    expect(JSON.parse(configLine ?? 'null')).toEqual({
      mcpServers: {
        meshgate: { type: 'http', url: mcpUrl, headers: { Authorization: 'Bearer <agent API key>' } },
      },
    });
    expect(out).toContain('admin API key: the one in MESHGATE_API_KEY (platform-admin).');
    expect(out).not.toContain(adminKey);
  });

  it('refuses an MCP client without a key, and serves one with a key: the demo tools answer', async () => {
    const url = /MCP endpoint \(all servers, federated\):\s+(\S+)/.exec(meshgate.output())?.[1];
    expect(url).toBeDefined();
    const anonymous = new Client({ name: 'start-command-test', version: '1.0.0' });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL(url!)))).rejects.toThrow(
      /401|Unauthorized/,
    );
    const client = new Client({ name: 'start-command-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url!), {
        requestInit: { headers: { authorization: `Bearer ${adminKey}` } },
      }),
    );
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('everything__echo');
      expect(names.filter((name) => name.startsWith('everything__')).length).toBeGreaterThan(3);
      const result = await client.callTool({ name: 'everything__echo', arguments: { message: 'hello' } });
      expect(firstText(result)).toBe('Echo: hello');
    } finally {
      await client.close();
    }
    for (const pid of descendantPids(meshgate.pid)) seen.set(pid, commandLine(pid));
  });

  it('stops everything on SIGINT and exits 0 within 15 s, leaving no process and no port behind', async () => {
    const commands = [...seen.values()];
    for (const expected of [
      /nats-server/,
      /services\/registry/,
      /services\/policy/,
      /services\/router/,
      /services\/ingress/,
      /server-everything/,
    ])
      expect(
        commands.some((command) => expected.test(command)),
        `${expected} in ${commands.join('; ')}`,
      ).toBe(true);
    const started = Date.now();
    meshgate.child.kill('SIGINT');
    const exit = await Promise.race([
      meshgate.exited,
      new Promise<null>((resolve) => setTimeout(resolve, 15_000, null)),
    ]);
    expect(exit, `no exit within 15 s\n${outputs([meshgate])}`).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(meshgate.output()).toContain('[meshgate] SIGINT received: stopping');
    await waitUntil(() => [...seen.keys()].every((pid) => !pidAlive(pid)), 3000, 'every child to be gone');
    for (const port of Object.values(ports)) expect(await tcpAnswers('127.0.0.1', port, 200)).toBe(false);
  }, 25_000);
});
