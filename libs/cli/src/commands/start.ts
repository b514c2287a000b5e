/**
 * `meshgate start`: the whole gateway on one machine. Makes NATS answer, makes sure an admin API key exists
 * (MESHGATE_API_KEY, or one created on the first run), starts every service of the Services list in order
 * (each waits for the previous one to be ready), prints where agents connect and a created key, and
 * supervises: Ctrl-C / SIGTERM / SIGHUP stop everything in reverse order (exit 0); a service that dies is
 * reported with its exit status and everything stops (exit 1). Restarting is an orchestrator's job.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bus } from '@meshgate/bus';
import { ApiClient } from '../api-client';
import type { Io } from '../io';
import { bootstrapAdminKey, type AdminKeyNotice } from '../start/admin-key';
import { readyBanner } from '../start/banner';
import { describeExit, startChild } from '../start/child';
import { formatLogLine } from '../start/log-format';
import { ensureNats } from '../start/nats';
import { httpReady, natsServiceReady, portFree, waitUntil } from '../start/readiness';
import { Services, type Readiness, type ServiceContext } from '../start/services';
import { baseUrl, startConfig } from '../start/start-config';
import { Supervisor } from '../start/supervisor';

/** The repository root: services are started from here. */
const RepoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const GraceMs = 5_000;
const ReadyTimeoutMs = 60_000;

export interface StartOptions {
  jsonLogs: boolean;
  io: Io;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Runs the gateway until a stop signal (0) or the death of a service (1). */
export async function runStart(opts: StartOptions): Promise<number> {
  const say = (line: string) => opts.io.out(`[meshgate] ${line}`);
  const config = startConfig(opts.env, opts.cwd);
  const ctx: ServiceContext = { config, demo: !existsSync(config.configPath) };
  const supervisor = new Supervisor(say, GraceMs);
  supervisor.install();
  let bus: Bus | undefined;
  let failed = false;
  try {
    await checkPorts(ctx);
    const nats = await ensureNats({
      config,
      repoRoot: RepoRoot,
      say,
      onLine: (line) => opts.io.out(`[nats] ${line}`),
      giveUp: () => supervisor.reasonToGiveUp(null),
    });
    if (nats) supervisor.add(nats);
    if (ctx.demo)
      say(
        `${config.configPath} not found: the registry starts with the demo upstream (server-everything over stdio)`,
      );
    else say(`servers file: ${config.configPath}`);
    bus = await Bus.connect({ url: config.natsUrl, name: 'meshgate-cli' });
    const adminKey = await bootstrapAdminKey(bus.nc, config.apiKey);
    for (const spec of Services) {
      if (supervisor.stopSignal !== null) break;
      const child = startChild({
        name: spec.name,
        command: process.execPath,
        args: ['--import', import.meta.resolve('tsx'), spec.entry],
        cwd: RepoRoot,
        env: { ...opts.env, ...spec.env(ctx) },
        onLine: (line) => opts.io.out(`[${spec.name}] ${formatLogLine(line, opts.jsonLogs)}`),
      });
      supervisor.add(child);
      await waitUntil(readinessCheck(spec.readiness(ctx), bus), {
        what: spec.name,
        timeoutMs: ReadyTimeoutMs,
        giveUp: () => supervisor.reasonToGiveUp(child),
      });
      say(`${spec.name} is ready`);
    }
    await bus.close();
    if (supervisor.stopSignal === null) {
      opts.io.out(await banner(ctx, adminKey));
      const death = await supervisor.nextDeath();
      if (death !== null && supervisor.stopSignal === null) {
        failed = true;
        say(`${death[0].name} died (${describeExit(death[1])}): stopping everything`);
      }
    }
  } catch (err) {
    if (supervisor.stopSignal === null) {
      failed = true;
      const exit = await supervisor.firstExit();
      opts.io.err(
        `[meshgate] ${err instanceof Error ? err.message : String(err)}${exit === null ? '' : ` (${exit})`}`,
      );
    }
  } finally {
    await bus?.close();
    await supervisor.stopAll();
  }
  return failed ? 1 : 0;
}

function readinessCheck(readiness: Readiness, bus: Bus): () => Promise<boolean> {
  return readiness.kind === 'http'
    ? () => httpReady(readiness.url)
    : () => natsServiceReady(bus, readiness.service);
}

/** Fails before anything starts listening when a port a service needs is taken. */
async function checkPorts(ctx: ServiceContext): Promise<void> {
  for (const spec of Services) {
    const listen = spec.listens?.(ctx);
    if (listen && !(await portFree(listen.host, listen.port))) {
      throw new Error(
        `${spec.name} cannot listen on ${listen.host}:${listen.port}: the port is in use (set ${listen.variables})`,
      );
    }
  }
}

async function banner(ctx: ServiceContext, adminKey: AdminKeyNotice): Promise<string> {
  const registryUrl = baseUrl(ctx.config.registry);
  let servers: Parameters<typeof readyBanner>[0]['servers'] = null;
  try {
    const records = await new ApiClient({ baseUrl: registryUrl, timeoutMs: 3_000 }).servers.list();
    servers = records.map(({ definition: d }) => ({
      name: d.name,
      transport: d.transport,
      enabled: d.enabled,
    }));
  } catch {
    servers = null;
  }
  return readyBanner({
    ingressUrl: baseUrl(ctx.config.ingress),
    registryUrl,
    servers,
    adminKey,
    auth: ctx.config.auth,
  });
}
