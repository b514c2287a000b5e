/**
 * The policy service's configuration: a pure function of the environment, validated once at start-up.
 * Every bad variable is named in one error (see parseEnv). Bucket and subject names are fields so that
 * tests can isolate themselves on a shared NATS; the environment never changes them.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CommonEnv, newInstanceId, parseEnv } from '@meshgate/config';
import { Buckets, Subjects } from '@meshgate/contracts';

const Int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,12}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/** The policy files shipped with the service: the default platform set. */
export const BundledPolicyDir = fileURLToPath(new URL('../policies/', import.meta.url));

/** The variables the policy service reads. */
export const PolicyEnv = z.object({
  ...CommonEnv,
  MESHGATE_POLICY_PORT: Int(0, 65_535).default(8083),
  MESHGATE_POLICY_HOST: z.string().min(1).default('127.0.0.1'),
  /** A directory of `<set>.cedar` files (platform.cedar, <tenant>.cedar) and `limits.json`. */
  MESHGATE_POLICY_DIR: z.string().min(1).optional(),
  /** `api-key` (default): the admin API needs an admin API key; `none`: local trials only. */
  MESHGATE_POLICY_AUTH: z.enum(['api-key', 'none']).default('api-key'),
  /** Decisions kept in the decision cache of this replica. */
  MESHGATE_POLICY_CACHE_SIZE: Int(0, 10_000_000).default(10_000),
});
export type PolicyEnv = z.infer<typeof PolicyEnv>;

/** Everything `start` needs. */
export interface PolicyConfig {
  natsUrl: string;
  logLevel: PolicyEnv['LOG_LEVEL'];
  instanceId: string;
  /** Admin API, probe and metrics address (loopback by default); port 0 picks a free port. */
  host: string;
  port: number;
  /**
   * Policy files (`<set>.cedar`, `limits.json`): `authoritative` (MESHGATE_POLICY_DIR) stores each valid
   * file that differs from what is stored; `seed` (the bundled directory) stores a file only when nothing
   * is stored for it yet.
   */
  files: { dir: string; mode: 'authoritative' | 'seed' };
  /** The KV bucket of the policy sets. */
  bucket: string;
  /** `api-key`: admin requests need an API key from `keysBucket`; `none`: open. */
  auth: { mode: 'api-key' | 'none'; keysBucket: string };
  subjects: { decide: string; heartbeat: string };
  heartbeatMs: number;
  cacheSize: number;
}

/** Reads the policy service's configuration from `env`; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PolicyConfig {
  const e = parseEnv(PolicyEnv, env);
  return {
    natsUrl: e.NATS_URL,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? newInstanceId('policy'),
    host: e.MESHGATE_POLICY_HOST,
    port: e.MESHGATE_POLICY_PORT,
    files:
      e.MESHGATE_POLICY_DIR !== undefined
        ? { dir: e.MESHGATE_POLICY_DIR, mode: 'authoritative' }
        : { dir: BundledPolicyDir, mode: 'seed' },
    bucket: Buckets.policies,
    auth: { mode: e.MESHGATE_POLICY_AUTH, keysBucket: Buckets.apiKeys },
    subjects: { decide: Subjects.policyDecide, heartbeat: Subjects.policyHeartbeat },
    heartbeatMs: 1_000,
    cacheSize: e.MESHGATE_POLICY_CACHE_SIZE,
  };
}
