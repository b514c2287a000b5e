/**
 * The services `meshgate start` runs, in start order (they stop in reverse). Each is its own process
 * (`node --import tsx services/<name>/src/main.ts`, cwd = repository root) and says how to tell it is
 * ready. A service added to the platform joins by adding one entry here. The policy service starts before
 * the routers, which refuse calls until its heartbeat says the policy sets are current. The audit archiver starts before
 * router and ingress, so the trail's stream exists (with its retention) before anything publishes to it,
 * and it stops after them, archiving their last events. Its key and their spools go under the state dir.
 */
import { join } from 'node:path';
import { baseUrl, type Listen, type StartConfig } from './start-config';

/** How to tell a started service is ready to work. */
export type Readiness =
  | { kind: 'http'; url: string }
  /** A `$SRV.PING.<service>` request over NATS gets an answer. */
  | { kind: 'nats-service'; service: string };

/** What a service's environment and readiness depend on. */
export interface ServiceContext {
  config: StartConfig;
  /** The servers file does not exist: the registry seeds the demo upstream. */
  demo: boolean;
}

export interface ServiceSpec {
  name: string;
  /** Entry point relative to the repository root. */
  entry: string;
  /** Variables set for the service on top of the environment `meshgate start` was given. */
  env(ctx: ServiceContext): Record<string, string>;
  readiness(ctx: ServiceContext): Readiness;
  /** The TCP listener the service opens, checked to be free before it starts. */
  listens?(ctx: ServiceContext): Listen & { variables: string };
}

/** Every service, in start order. */
export const Services: readonly ServiceSpec[] = [
  {
    name: 'registry',
    entry: 'services/registry/src/main.ts',
    env: ({ config, demo }) => ({
      NATS_URL: config.natsUrl,
      REGISTRY_HOST: config.registry.host,
      REGISTRY_PORT: String(config.registry.port),
      MESHGATE_CONFIG: config.configPath,
      ...(demo ? { MESHGATE_DEMO_UPSTREAM: '1' } : {}),
    }),
    readiness: ({ config }) => ({ kind: 'http', url: `${baseUrl(config.registry)}/readyz` }),
    listens: ({ config }) => ({ ...config.registry, variables: 'REGISTRY_HOST/REGISTRY_PORT' }),
  },
  {
    name: 'policy',
    entry: 'services/policy/src/main.ts',
    env: ({ config }) => ({
      NATS_URL: config.natsUrl,
      MESHGATE_POLICY_HOST: config.policy.host,
      MESHGATE_POLICY_PORT: String(config.policy.port),
    }),
    readiness: ({ config }) => ({ kind: 'http', url: `${baseUrl(config.policy)}/readyz` }),
    listens: ({ config }) => ({ ...config.policy, variables: 'MESHGATE_POLICY_HOST/MESHGATE_POLICY_PORT' }),
  },
  {
    name: 'audit',
    entry: 'services/audit/src/main.ts',
    env: ({ config }) => ({
      NATS_URL: config.natsUrl,
      AUDIT_HOST: config.audit.host,
      AUDIT_PORT: String(config.audit.port),
      MESHGATE_AUDIT_DATA_DIR: join(config.stateDir, 'audit'),
    }),
    readiness: ({ config }) => ({ kind: 'http', url: `${baseUrl(config.audit)}/readyz` }),
    listens: ({ config }) => ({ ...config.audit, variables: 'AUDIT_HOST/AUDIT_PORT' }),
  },
  {
    name: 'router',
    entry: 'services/router/src/main.ts',
    env: ({ config }) => ({
      NATS_URL: config.natsUrl,
      MESHGATE_AUDIT_SPOOL_DIR: join(config.stateDir, 'spool', 'router'),
    }),
    readiness: () => ({ kind: 'nats-service', service: 'meshgate-router' }),
  },
  {
    name: 'ingress',
    entry: 'services/ingress/src/main.ts',
    env: ({ config }) => ({
      NATS_URL: config.natsUrl,
      HOST: config.ingress.host,
      PORT: String(config.ingress.port),
      MESHGATE_AUDIT_SPOOL_DIR: join(config.stateDir, 'spool', 'ingress'),
      MESHGATE_AUTH: config.auth,
    }),
    readiness: ({ config }) => ({ kind: 'http', url: `${baseUrl(config.ingress)}/readyz` }),
    listens: ({ config }) => ({ ...config.ingress, variables: 'HOST/PORT' }),
  },
];
