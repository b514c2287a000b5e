/**
 * Router configuration: a pure function of the environment, validated once at start.
 */
import { z } from 'zod';
import { AuditMode, DEFAULT_LINGER_MS } from '@meshgate/audit';
import { parseEnv, CommonEnv } from '@meshgate/config';
import { Buckets } from '@meshgate/contracts';
import { isValidSeparator, DefaultSeparator } from '@meshgate/mcp';

const Millis = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** The environment variables the router reads. */
export const RouterEnv = z.object({
  ...CommonEnv,
  MESHGATE_NAMESPACE_SEPARATOR: z
    .string()
    .default(DefaultSeparator)
    .refine(isValidSeparator, 'must be 1-8 characters, none of them a letter, a digit or "-"'),
  ROUTER_LIST_DEADLINE_MS: Millis(3000, 50, 60_000),
  ROUTER_RESTART_BACKOFF_MAX_MS: Millis(30_000, 100, 600_000),
  /** Sessions no call reached for this long are released (state, stateful upstream connections). */
  ROUTER_SESSION_IDLE_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(86_400),
  MESHGATE_AUDIT: z.enum(['on', 'off']).default('on'),
  MESHGATE_AUDIT_MODE: AuditMode.default('fail-open'),
  MESHGATE_AUDIT_SPOOL_DIR: z.string().min(1).default('.meshgate/spool/router'),
  MESHGATE_AUDIT_SPOOL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(Number.MAX_SAFE_INTEGER)
    .default(256 * 1024 ** 2),
  /** How long audit events wait to share a message (ms): the publisher's linger period. */
  MESHGATE_AUDIT_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(DEFAULT_LINGER_MS),
  MESHGATE_POLICY: z.enum(['enforce', 'off']).default('enforce'),
  MESHGATE_POLICY_STALE_MS: Millis(5_000, 0, 600_000),
});
export type RouterEnv = z.infer<typeof RouterEnv>;

/** What `start()` needs. */
export interface RouterConfig {
  natsUrl: string;
  logLevel: string;
  /** Unique id of this replica; absent means a new random one at start. */
  instanceId: string | undefined;
  separator: string;
  listDeadlineMs: number;
  restartBackoffMaxMs: number;
  /** Idle time after which a session's state on this replica is released (ms). */
  sessionIdleMs: number;
  /** KV bucket holding the server definitions (tests point it at a bucket of their own). */
  registryBucket: string;
  /** The audit trail (ADR 003): off, or the publisher's mode, spool directory and spool bound. */
  audit: RouterAuditConfig;
  policy: RouterPolicyConfig;
}

/**
 * Authorization (ADR 004): `enforce` decides every call in process from the policy sets and limits the
 * policy service keeps in `bucket`, and refuses every call while no policy replica has vouched for them
 * within `staleMs` (0: never stale); `off` lets every call through (local trials only, with a warning).
 */
export interface RouterPolicyConfig {
  mode: 'enforce' | 'off';
  staleMs: number;
  bucket: string;
  /** Limit state: the configured limits' counters and, whatever the mode, upstreams' shared `maxConcurrent`. */
  limitsBucket: string;
}

/** How the router publishes its `upstream-call` events. */
export interface RouterAuditConfig {
  enabled: boolean;
  mode: AuditMode;
  /** Claimed with a pid file; `<dir>-<instanceId>` when another live process holds it. */
  spoolDir: string;
  spoolMaxBytes: number;
  lingerMs: number;
}

/** Reads and validates the router's configuration from `env`; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const e = parseEnv(RouterEnv, env);
  return {
    natsUrl: e.NATS_URL,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID,
    separator: e.MESHGATE_NAMESPACE_SEPARATOR,
    listDeadlineMs: e.ROUTER_LIST_DEADLINE_MS,
    restartBackoffMaxMs: e.ROUTER_RESTART_BACKOFF_MAX_MS,
    sessionIdleMs: e.ROUTER_SESSION_IDLE_S * 1000,
    registryBucket: Buckets.registry,
    audit: {
      enabled: e.MESHGATE_AUDIT === 'on',
      mode: e.MESHGATE_AUDIT_MODE,
      spoolDir: e.MESHGATE_AUDIT_SPOOL_DIR,
      spoolMaxBytes: e.MESHGATE_AUDIT_SPOOL_MAX_BYTES,
      lingerMs: e.MESHGATE_AUDIT_LINGER_MS,
    },
    policy: {
      mode: e.MESHGATE_POLICY,
      staleMs: e.MESHGATE_POLICY_STALE_MS,
      bucket: Buckets.policies,
      limitsBucket: Buckets.limits,
    },
  };
}
