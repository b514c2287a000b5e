/**
 * Composes a whole gateway in this process for end-to-end tests: a private NATS, the registry seeded from
 * a config file in the desktop `mcpServers` format, the policy service (its bundled default set, or the
 * files of `policyDir`), optionally the audit archiver, N router replicas and M ingress replicas, each
 * started through its own `start()` exactly as its `main.ts` does. Audit spools and the archiver's key live
 * in the gateway's temporary directory; without `audit` the trail is off. Authentication is off
 * (`MESHGATE_AUTH=none`, every call as `default/anonymous`, an agent) unless `auth` asks for it; policies
 * are enforced either way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import * as registry from '@meshgate/registry';
import * as router from '@meshgate/router';
import * as ingress from '@meshgate/ingress';
import * as audit from '@meshgate/audit-service';
import * as policy from '@meshgate/policy-service';

/** One upstream in the `mcpServers` format (plus Meshgate's extras). */
/** Upstream protection of one server (ServerDefinition): concurrent calls per router replica, queue. */
interface EntryLimits {
  maxConcurrent?: number;
  maxQueue?: number;
}
export type McpServerEntry =
  | ({
      command: string;
      args?: string[];
      env?: Record<string, string>;
      stateful?: boolean;
      timeoutMs?: number;
    } & EntryLimits)
  | ({ url: string; type?: 'http' | 'sse'; stateful?: boolean; timeoutMs?: number } & EntryLimits);

export interface GatewayOptions {
  servers: Record<string, McpServerEntry>;
  ingressReplicas?: number;
  routerReplicas?: number;
  /** Extra environment for every service (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
  /** Also start the audit archiver, before router and ingress, and turn their audit trail on. */
  audit?: boolean;
  /** Authenticate the MCP endpoints (API keys; JWTs with MESHGATE_JWT_ISSUERS in `env`). */
  auth?: boolean;
  /** A directory of policy files (`<set>.cedar`, `limits.json`) the policy service loads. */
  policyDir?: string;
}

export interface Gateway {
  natsUrl: string;
  registryUrl: string;
  ingress: ingress.IngressHandle[];
  routers: router.RouterHandle[];
  /** The audit archiver, when `audit` was asked for. */
  audit: audit.AuditHandle | undefined;
  /** The policy service (a test may stop it: routers then refuse calls once its heartbeat is stale). */
  policy: policy.PolicyHandle;
  /** MCP URL on ingress replica `replica`: federated, or one server's endpoint. */
  mcpUrl(opts?: { replica?: number; server?: string }): URL;
  stop(): Promise<void>;
}

/** A private NATS per gateway keeps tests from ever seeing each other's sessions, routers or registry. */
async function gatewayNats(): Promise<{ url: string; stop(): Promise<void> }> {
  try {
    const nats: SpawnedNats = await spawnNats();
    return nats;
  } catch {
    // nats-server is not on PATH here: share the run's NATS (provided by the global setup).
    return { url: process.env['NATS_URL']!, stop: async () => {} };
  }
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const nats = await gatewayNats();
  const dir = mkdtempSync(join(tmpdir(), 'mg-e2e-'));
  const configFile = join(dir, 'meshgate.json');
  writeFileSync(configFile, JSON.stringify({ mcpServers: opts.servers }, null, 2));
  const env = {
    LOG_LEVEL: 'warn',
    MESHGATE_AUDIT: opts.audit ? 'on' : 'off',
    MESHGATE_AUTH: opts.auth ? 'on' : 'none',
    ...opts.env,
    NATS_URL: nats.url,
  };
  const spool = (name: string) => ({ MESHGATE_AUDIT_SPOOL_DIR: join(dir, 'spool', name) });
  const stops: (() => Promise<void>)[] = [];
  try {
    const reg = await registry.start(
      registry.loadConfig({ ...env, REGISTRY_PORT: '0', MESHGATE_CONFIG: configFile }),
    );
    stops.push(() => reg.stop());
    const pol = await policy.start(
      policy.loadConfig({
        ...env,
        MESHGATE_POLICY_PORT: '0',
        ...(opts.policyDir ? { MESHGATE_POLICY_DIR: opts.policyDir } : {}),
      }),
    );
    stops.push(() => pol.stop());
    let archiver: audit.AuditHandle | undefined;
    if (opts.audit) {
      const a = await audit.start(
        audit.loadConfig({ ...env, AUDIT_PORT: '0', MESHGATE_AUDIT_DATA_DIR: join(dir, 'audit') }),
      );
      archiver = a;
      stops.push(() => a.stop());
    }
    const routers: router.RouterHandle[] = [];
    for (let i = 0; i < (opts.routerReplicas ?? 1); i++) {
      const r = await router.start(router.loadConfig({ ...env, ...spool('router') }));
      routers.push(r);
      stops.push(() => r.stop());
    }
    const ingresses: ingress.IngressHandle[] = [];
    for (let i = 0; i < (opts.ingressReplicas ?? 1); i++) {
      const ing = await ingress.start(ingress.loadConfig({ ...env, ...spool('ingress'), PORT: '0' }));
      ingresses.push(ing);
      stops.push(() => ing.stop());
    }
    return {
      natsUrl: nats.url,
      registryUrl: reg.url,
      ingress: ingresses,
      routers,
      audit: archiver,
      policy: pol,
      mcpUrl({ replica = 0, server } = {}) {
        const base = ingresses[replica]!.url;
        return new URL(server ? `${base}/servers/${server}/mcp` : `${base}/mcp`);
      },
      async stop() {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
        await nats.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
