/**
 * The registry's configuration: a pure function of the environment, validated once at start-up. Every bad
 * variable is named in one error (see parseEnv).
 */
import { z } from 'zod';
import { BoolFromEnv, CommonEnv, newInstanceId, parseEnv } from '@meshgate/config';
import { Buckets } from '@meshgate/contracts';
import type { Environment } from './env-references';

const Port = z
  .string()
  .regex(/^\d{1,5}$/, 'must be a port number')
  .transform(Number)
  .pipe(z.number().max(65_535, 'must be a port number'));

/** The variables the registry reads. */
export const RegistryEnv = z.object({
  ...CommonEnv,
  REGISTRY_PORT: Port.default(8081),
  REGISTRY_HOST: z.string().min(1).default('127.0.0.1'),
  MESHGATE_CONFIG: z.string().min(1).default('./meshgate.yaml'),
  MESHGATE_DEMO_UPSTREAM: BoolFromEnv.default(false),
});
export type RegistryEnv = z.infer<typeof RegistryEnv>;

/** Everything `start` needs. */
export interface RegistryConfig {
  natsUrl: string;
  logLevel: RegistryEnv['LOG_LEVEL'];
  instanceId: string;
  /** Admin API address; loopback unless the operator chooses otherwise. Port 0 picks a free port. */
  host: string;
  port: number;
  /** The configuration file whose servers are applied on every start. */
  configFile: string;
  /** Seed the demo upstream `everything` when the configuration file does not exist. */
  demoUpstream: boolean;
  /** KV bucket of the catalogue. */
  bucket: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** The environment `${VAR}` references of the configuration file resolve against. */
  env: Environment;
}

/** Reads the registry's configuration from `env`; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  const e = parseEnv(RegistryEnv, env);
  return {
    natsUrl: e.NATS_URL,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? newInstanceId('registry'),
    host: e.REGISTRY_HOST,
    port: e.REGISTRY_PORT,
    configFile: e.MESHGATE_CONFIG,
    demoUpstream: e.MESHGATE_DEMO_UPSTREAM,
    bucket: Buckets.registry,
    bodyLimit: 64 * 1024,
    env: { ...env },
  };
}
