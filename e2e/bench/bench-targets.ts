/**
 * The systems under test, each started as separate processes the way they run in production: the echo
 * upstream over Streamable HTTP (the direct baseline), mcp-proxy fronting the stdio form of the same
 * upstream, and a Meshgate stack (registry, audit archiver, router, ingress launchers) fronting it over HTTP
 * or stdio, with its audit trail on (publishers and an archiver), off (no archiver, `MESHGATE_AUDIT=off`), or
 * published without an archiver (`publish`), to tell what the request path pays for publishing from what an
 * archiver sharing the machine's cores costs.
 */
import { Agent } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
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
  stop(): Promise<void>;
}

/** Starts the echo upstream over Streamable HTTP; its `/mcp` is the direct baseline. */
export async function startDirect(children: ChildProcesses): Promise<RunningTarget> {
  const port = await freePort();
  const child = children.spawn('echo-upstream', process.execPath, [...NODE_TSX, ECHO_SERVER, '--http', '--port', String(port)]);
  await waitForPort(child, port);
  return { child, baseUrl: `http://127.0.0.1:${port}`, stop: () => children.stop(child) };
}

/** Starts mcp-proxy (Streamable HTTP on `/mcp`) in front of the stdio echo upstream. */
export async function startMcpProxy(children: ChildProcesses): Promise<RunningTarget> {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'mcp-proxy');
  if (!existsSync(bin)) throw new Error(`mcp-proxy is not installed (${bin} missing)`);
  const port = await freePort();
  const args = [bin, '--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--'];
  const child = children.spawn('mcp-proxy', process.execPath, [...args, ECHO_STDIO_COMMAND.command, ...ECHO_STDIO_COMMAND.args]);
  await waitForPort(child, port);
  return { child, baseUrl: `http://127.0.0.1:${port}`, stop: () => children.stop(child) };
}

/** How the Meshgate stack reaches the echo upstream. */
export type UpstreamKind = { kind: 'http'; url: string } | { kind: 'stdio' };

function meshgateConfig(upstream: UpstreamKind): string {
  const bench = upstream.kind === 'http' ? { url: upstream.url, type: 'http' } : ECHO_STDIO_COMMAND;
  return stringify({ mcpServers: { bench } });
}

/** Waits until a real tools/call through `endpoint` succeeds (the router has loaded the catalogue). */
async function waitForCallable(child: BenchChild, endpoint: string, tool: string): Promise<void> {
  let lastError = '';
  const probe = async (): Promise<boolean> => {
    const agent = new Agent({ keepAlive: false });
    try {
      const session = await McpHttpSession.open(endpoint, agent);
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

/**
 * Starts registry, router and ingress (`node --import tsx services/<name>/src/main.ts`) on `natsUrl`, with a
 * temporary MESHGATE_CONFIG naming the echo upstream `bench`, and waits for `/readyz` and a working call.
 */
/** Extra node options for the Meshgate services only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them. */
export const SERVICE_NODE_ARGS = (process.env['BENCH_SERVICE_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg.length > 0);
/** The audit trail of a stack: `on` (publishers and archiver), `publish` (publishers, no archiver) or `off`. */
export type AuditSetting = 'on' | 'publish' | 'off';

export async function startMeshgate(
  children: ChildProcesses,
  natsUrl: string,
  upstream: UpstreamKind,
  audit: AuditSetting,
): Promise<RunningTarget> {
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
    if (audit === 'on') {
      const auditPort = await freePort();
      const env = { AUDIT_PORT: String(auditPort), MESHGATE_AUDIT_DATA_DIR: join(dir, 'audit') };
      await waitForHttp200(launch('audit', env), `http://127.0.0.1:${auditPort}/readyz`);
    }
    launch('router', { MESHGATE_AUDIT_SPOOL_DIR: join(dir, 'spool', 'router') });
    const port = await freePort();
    const ingress = launch('ingress', {
      PORT: String(port),
      HOST: '127.0.0.1',
      MESHGATE_AUDIT_SPOOL_DIR: join(dir, 'spool', 'ingress'),
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp200(ingress, `${baseUrl}/readyz`);
    await waitForCallable(ingress, `${baseUrl}/servers/bench/mcp`, 'echo');
    return { child: ingress, baseUrl, stop };
  } catch (error) {
    const tails = started.map((c) => `--- ${c.name} output:\n${c.tail()}`).join('\n');
    await stop();
    throw new Error(`${(error as Error).message}\n${tails}`);
  }
}
