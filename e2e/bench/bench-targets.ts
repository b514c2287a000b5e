/**
 * The systems under test, each started as separate processes the way they run in production: the echo
 * upstream over Streamable HTTP (the direct baseline), mcp-proxy fronting the stdio form of the same
 * upstream, and a Meshgate stack (registry, policy service, audit archiver, router, ingress launchers)
 * fronting it over HTTP or stdio. A stack runs as a production user runs it: API keys required and Cedar
 * policies enforced (the policy service's bundled default set lets the bench's `agent` key use everything);
 * the `open` form turns both off (`MESHGATE_AUTH=none`, `MESHGATE_POLICY=off`, no policy service) so that
 * the stage's cost can be measured. The audit trail is on (publishers and an archiver), off, or published
 * without an archiver (`publish`), to tell what the request path pays for publishing from what an archiver
 * sharing the machine's cores costs.
 */
import { Agent } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { connect } from '@nats-io/transport-node';
import { ApiKeyStore } from '@meshgate/auth';
import { DefaultTenant } from '@meshgate/contracts';
import { freePort } from '@meshgate/testing';
import { waitForHttp200, waitForPort, waitUntil, type BenchChild, type ChildProcesses } from './child-processes';
import { McpHttpSession } from './mcp-http-session';

/** The repository root: every child runs there, so `--import tsx` and workspace imports resolve. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ECHO_SERVER = fileURLToPath(new URL('./echo-server.ts', import.meta.url));
const NODE_TSX = ['--import', 'tsx'];

/** The echo upstream as a command line that speaks stdio. */
export const ECHO_STDIO_COMMAND = { command: process.execPath, args: [...NODE_TSX, ECHO_SERVER, '--stdio'] };

/** A started target: its MCP endpoint(s), the process to weigh, and how to stop it. */
export interface RunningTarget {
  child: BenchChild;
  baseUrl: string;
  /** Sent with every request to the target: the bench agent's API key on an authenticated Meshgate, else none. */
  headers: Record<string, string>;
  /** The process groups of the target's processes (each child leads its own; its children stay in it). */
  processGroups: number[];
  stop(): Promise<void>;
}

/** Starts the echo upstream over Streamable HTTP; its `/mcp` is the direct baseline. */
export async function startDirect(children: ChildProcesses): Promise<RunningTarget> {
  const port = await freePort();
  const child = children.spawn('echo-upstream', process.execPath, [...NODE_TSX, ECHO_SERVER, '--http', '--port', String(port)]);
  await waitForPort(child, port);
  return { child, baseUrl: `http://127.0.0.1:${port}`, headers: {}, processGroups: [child.pid], stop: () => children.stop(child) };
}

/** Starts mcp-proxy (Streamable HTTP on `/mcp`) in front of the stdio echo upstream. */
export async function startMcpProxy(children: ChildProcesses): Promise<RunningTarget> {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'mcp-proxy');
  if (!existsSync(bin)) throw new Error(`mcp-proxy is not installed (${bin} missing)`);
  const port = await freePort();
  const args = [bin, '--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--'];
  const child = children.spawn('mcp-proxy', process.execPath, [...args, ECHO_STDIO_COMMAND.command, ...ECHO_STDIO_COMMAND.args]);
  await waitForPort(child, port);
  return { child, baseUrl: `http://127.0.0.1:${port}`, headers: {}, processGroups: [child.pid], stop: () => children.stop(child) };
}

/** How the Meshgate stack reaches the echo upstream. */
export type UpstreamKind = { kind: 'http'; url: string } | { kind: 'stdio' };

function meshgateConfig(upstream: UpstreamKind): string {
  const bench = upstream.kind === 'http' ? { url: upstream.url, type: 'http' } : ECHO_STDIO_COMMAND;
  return stringify({ mcpServers: { bench } });
}

/** Waits until a real tools/call through `endpoint` succeeds (the router has loaded the catalogue). */
async function waitForCallable(
  child: BenchChild,
  endpoint: string,
  headers: Record<string, string>,
  tool: string,
): Promise<void> {
  let lastError = '';
  const probe = async (): Promise<boolean> => {
    const agent = new Agent({ keepAlive: false });
    try {
      const session = await McpHttpSession.open(endpoint, agent, headers);
      await session.callTool(tool, 'ready');
      return true;
    } catch (error) {
      lastError = (error as Error).message;
      return false;
    } finally {
      agent.destroy();
    }
  };
  await waitUntil(child, `a working ${tool} at ${endpoint}`, probe, 30_000).catch((error: unknown) => {
    throw new Error(`no working ${tool} call at ${endpoint} within 30 s; last error: ${lastError}\n${(error as Error).message}`);
  });
}

/** Extra node options for the Meshgate services only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them. */
export const SERVICE_NODE_ARGS = (process.env['BENCH_SERVICE_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg.length > 0);
/** The audit trail of a stack: `on` (publishers and archiver), `publish` (publishers, no archiver) or `off`. */
export type AuditSetting = 'on' | 'publish' | 'off';
/**
 * Access control of a stack: `enforced` (the production default: API keys at ingress, Cedar policies in the
 * router, the policy service running) or `open` (`MESHGATE_AUTH=none`, `MESHGATE_POLICY=off`, no policy service).
 */
export type AccessSetting = 'enforced' | 'open';

/** The principal of the bench's API key (tenant `default`, kind and role `agent`). */
const BENCH_PRINCIPAL = 'bench-agent';

/**
 * Issues an agent API key for `bench-agent` in the key bucket on `natsUrl` and returns its text. It expires
 * after a day, so a key left on a shared NATS (`NATS_URL`) does not stay a valid credential.
 */
async function issueBenchApiKey(natsUrl: string): Promise<string> {
  const nc = await connect({ servers: natsUrl, name: 'meshgate-bench-keys' });
  try {
    const store = await ApiKeyStore.open(nc);
    const issued = await store.create({
      tenant: DefaultTenant,
      principal: BENCH_PRINCIPAL,
      kind: 'agent',
      roles: ['agent'],
      description: 'npm run bench load generator',
      expiresInDays: 1,
    });
    return issued.apiKey;
  } finally {
    await nc.close();
  }
}

/**
 * Starts registry, policy service (when `access` is `enforced`), audit archiver (when `audit` is `on`),
 * router and ingress (`node --import tsx services/<name>/src/main.ts`) on `natsUrl`, with a temporary
 * MESHGATE_CONFIG naming the echo upstream `bench`; waits for each `/readyz` and a working call.
 */
export async function startMeshgate(
  children: ChildProcesses,
  natsUrl: string,
  upstream: UpstreamKind,
  opts: { audit: AuditSetting; access: AccessSetting },
): Promise<RunningTarget> {
  const { audit, access } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-'));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const started: BenchChild[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.reverse().map((c) => children.stop(c)));
    removeDir();
    process.off('exit', removeDir);
  };
  try {
    const configFile = join(dir, 'meshgate.yaml');
    writeFileSync(configFile, meshgateConfig(upstream));
    const common = { NATS_URL: natsUrl, LOG_LEVEL: 'warn', MESHGATE_AUDIT: audit === 'off' ? 'off' : 'on' };
    const launch = (name: string, env: Record<string, string>): BenchChild => {
      const main = join(REPO_ROOT, 'services', name, 'src', 'main.ts');
      if (!existsSync(main)) throw new Error(`meshgate ${name}: ${main} does not exist yet`);
      const child = children.spawn(`meshgate-${name}`, process.execPath, [...SERVICE_NODE_ARGS, ...NODE_TSX, main], {
        ...common,
        ...env,
      });
      started.push(child);
      return child;
    };
    const registryPort = await freePort();
    const registry = launch('registry', { REGISTRY_PORT: String(registryPort), MESHGATE_CONFIG: configFile });
    // The router must load this run's definition of `bench`, not the one an earlier stack left in the KV bucket.
    await waitForHttp200(registry, `http://127.0.0.1:${registryPort}/readyz`);
    let headers: Record<string, string> = {};
    if (access === 'enforced') {
      // A router refuses every call until a policy replica's heartbeat vouches for its sets.
      const policyPort = await freePort();
      const policy = launch('policy', { MESHGATE_POLICY_PORT: String(policyPort), MESHGATE_POLICY_HOST: '127.0.0.1' });
      await waitForHttp200(policy, `http://127.0.0.1:${policyPort}/readyz`);
      headers = { authorization: `Bearer ${await issueBenchApiKey(natsUrl)}` };
    }
    if (audit === 'on') {
      const auditPort = await freePort();
      const env = { AUDIT_PORT: String(auditPort), MESHGATE_AUDIT_DATA_DIR: join(dir, 'audit') };
      await waitForHttp200(launch('audit', env), `http://127.0.0.1:${auditPort}/readyz`);
    }
    launch('router', {
      MESHGATE_AUDIT_SPOOL_DIR: join(dir, 'spool', 'router'),
      MESHGATE_POLICY: access === 'enforced' ? 'enforce' : 'off',
    });
    const port = await freePort();
    const ingress = launch('ingress', {
      PORT: String(port),
      HOST: '127.0.0.1',
      MESHGATE_AUDIT_SPOOL_DIR: join(dir, 'spool', 'ingress'),
      MESHGATE_AUTH: access === 'enforced' ? 'on' : 'none',
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp200(ingress, `${baseUrl}/readyz`);
    await waitForCallable(ingress, `${baseUrl}/servers/bench/mcp`, headers, 'echo');
    return { child: ingress, baseUrl, headers, processGroups: started.map((c) => c.pid), stop };
  } catch (error) {
    const tails = started.map((c) => `--- ${c.name} output:\n${c.tail()}`).join('\n');
    await stop();
    throw new Error(`${(error as Error).message}\n${tails}`);
  }
}
