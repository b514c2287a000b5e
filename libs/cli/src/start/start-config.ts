/**
 * What `meshgate start` needs to know, as a pure function of the environment and the working directory:
 * where NATS is (and whether it is ours to start), where registry, policy, audit and ingress listen, which servers
 * file the registry reads, where the gateway keeps its local state (audit signing key, audit spools), and
 * the admin API key to record when one is given.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { parseApiKey } from '@meshgate/auth';
import { CommonEnv, ConfigError, parseEnv } from '@meshgate/config';

const Port = z.coerce.number().int().min(1).max(65_535);
const Host = z.string().min(1);

/** The variables `meshgate start` reads (each service reads its own too; they get the same environment). */
export const StartEnv = z.object({
  NATS_URL: CommonEnv.NATS_URL,
  HOST: Host.default('127.0.0.1'),
  PORT: Port.default(8080),
  REGISTRY_HOST: Host.default('127.0.0.1'),
  REGISTRY_PORT: Port.default(8081),
  AUDIT_HOST: Host.default('127.0.0.1'),
  AUDIT_PORT: Port.default(8082),
  MESHGATE_POLICY_HOST: Host.default('127.0.0.1'),
  MESHGATE_POLICY_PORT: Port.default(8083),
  /** `none` opens the MCP endpoints to every request (local trials); the banner says so. */
  MESHGATE_AUTH: z.enum(['on', 'none']).default('on'),
  MESHGATE_CONFIG: z.string().min(1).default('./meshgate.yaml'),
  /** Local state: the audit signing key (`audit/`) and the audit spools of router and ingress (`spool/`). */
  MESHGATE_STATE_DIR: z.string().min(1).default('./.meshgate'),
  /** The admin key to record instead of creating one; checked here so that a typo fails before anything starts. */
  MESHGATE_API_KEY: z
    .string()
    .refine(
      (key) => key === '' || parseApiKey(key) !== null,
      'is not a Meshgate API key (mgk_<16 hex digits>_<43 base64url characters>); unset it to have one created',
    )
    .optional(),
});
export type StartEnv = z.infer<typeof StartEnv>;

/** Host and port of the first server of a NATS URL, and whether `meshgate start` may run it locally. */
export interface NatsEndpoint {
  host: string;
  port: number;
  local: boolean;
}

export interface Listen {
  host: string;
  port: number;
}

export interface StartConfig {
  natsUrl: string;
  nats: NatsEndpoint;
  ingress: Listen;
  registry: Listen;
  /** The audit archiver's probe address (`/readyz`). */
  audit: Listen;
  /** The policy service's admin API and probes. */
  policy: Listen;
  /** Whether ingress authenticates the MCP endpoints. */
  auth: 'on' | 'none';
  /** Absolute path of the servers file, resolved against the directory `meshgate` was started in. */
  configPath: string;
  /** Absolute path of the local state directory, resolved the same way. */
  stateDir: string;
  /** MESHGATE_API_KEY: the admin key to record instead of creating one. */
  apiKey?: string;
}

const LocalHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Parses `nats://host:port` (scheme optional, first of a comma-separated list; port 4222 by default). */
export function natsEndpoint(url: string): NatsEndpoint {
  const first = url.split(',')[0]?.trim() ?? '';
  let parsed: URL;
  try {
    parsed = new URL(first.includes('://') ? first : `nats://${first}`);
  } catch {
    throw new ConfigError(`NATS_URL is not a NATS URL: "${url}"`);
  }
  if (!parsed.hostname) throw new ConfigError(`NATS_URL names no host: "${url}"`);
  const port = parsed.port ? Number(parsed.port) : 4222;
  return { host: parsed.hostname, port, local: LocalHosts.has(parsed.hostname) };
}

/** Reads the start configuration; throws ConfigError naming every bad variable. */
export function startConfig(env: NodeJS.ProcessEnv, cwd: string): StartConfig {
  const vars = parseEnv(StartEnv, env);
  return {
    natsUrl: vars.NATS_URL,
    nats: natsEndpoint(vars.NATS_URL),
    ingress: { host: vars.HOST, port: vars.PORT },
    registry: { host: vars.REGISTRY_HOST, port: vars.REGISTRY_PORT },
    audit: { host: vars.AUDIT_HOST, port: vars.AUDIT_PORT },
    policy: { host: vars.MESHGATE_POLICY_HOST, port: vars.MESHGATE_POLICY_PORT },
    auth: vars.MESHGATE_AUTH,
    configPath: isAbsolute(vars.MESHGATE_CONFIG) ? vars.MESHGATE_CONFIG : resolve(cwd, vars.MESHGATE_CONFIG),
    stateDir: isAbsolute(vars.MESHGATE_STATE_DIR)
      ? vars.MESHGATE_STATE_DIR
      : resolve(cwd, vars.MESHGATE_STATE_DIR),
    ...(vars.MESHGATE_API_KEY ? { apiKey: vars.MESHGATE_API_KEY } : {}),
  };
}

/** The address a client on this machine uses to reach a listener bound to `host`. */
export function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `http://<host>:<port>` as a client on this machine reaches it. */
export function baseUrl(listen: Listen): string {
  return `http://${clientHost(listen.host)}:${listen.port}`;
}
