/**
 * Ingress configuration as a pure function of the environment: one zod schema of the variables ingress
 * reads, turned into the typed `IngressConfig` every other module receives.
 */
import { z } from 'zod';
import { AuditMode, DEFAULT_LINGER_MS } from '@meshgate/audit';
import { JwtIssuerConfig, JwtIssuersFromJson } from '@meshgate/auth';
import { CommonEnv, newInstanceId, parseEnv } from '@meshgate/config';
import { Buckets } from '@meshgate/contracts';

const MiB = 1024 * 1024;

const CommaList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );

/** An integer variable; unset or empty takes the default. */
const Int = (min: number, max: number, fallback: number) =>
  z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().int().min(min).max(max).default(fallback),
  );

const IngressEnv = z
  .object({
    ...CommonEnv,
    PORT: Int(0, 65_535, 8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    MESHGATE_ALLOWED_ORIGINS: CommaList,
    MESHGATE_ALLOWED_HOSTS: CommaList,
    MESHGATE_MAX_BODY_BYTES: Int(1024, 64 * MiB, 4 * MiB),
    MESHGATE_REQUEST_TIMEOUT_MS: Int(100, 3_600_000, 300_000),
    MESHGATE_SESSION_TTL_S: Int(1, 30 * 86_400, 86_400),
    MESHGATE_EVENTS_MAX_AGE_S: Int(1, 7 * 86_400, 300),
    MESHGATE_EVENTS_MAX_PER_STREAM: Int(1, 1_000_000, 1000),
    MESHGATE_EVENTS_MAX_BYTES: Int(MiB, Number.MAX_SAFE_INTEGER, 1024 * MiB),
    MESHGATE_MAX_STREAMS: Int(1, 1_000_000, 10_000),
    MESHGATE_MAX_STREAMS_PER_SESSION: Int(1, 10_000, 32),
    MESHGATE_SSE_KEEPALIVE_MS: Int(100, 300_000, 15_000),
    MESHGATE_SSE_RETRY_MS: Int(0, 600_000, 1000),
    MESHGATE_ROUTER_PROBE_MS: Int(50, 60_000, 1000),
    MESHGATE_MAX_BATCH: Int(1, 10_000, 100),
    MESHGATE_BATCH_CONCURRENCY: Int(1, 256, 8),
    MESHGATE_LEGACY_INIT_TIMEOUT_MS: Int(100, 600_000, 30_000),
    MESHGATE_AUDIT: z.enum(['on', 'off']).default('on'),
    MESHGATE_AUDIT_MODE: AuditMode.default('fail-open'),
    MESHGATE_AUDIT_SPOOL_DIR: z.string().min(1).default('.meshgate/spool/ingress'),
    MESHGATE_AUDIT_SPOOL_MAX_BYTES: Int(64 * 1024, Number.MAX_SAFE_INTEGER, 256 * MiB),
    MESHGATE_AUDIT_LINGER_MS: Int(0, 1_000, DEFAULT_LINGER_MS),
    MESHGATE_AUTH: z.enum(['on', 'none']).default('on'),
    MESHGATE_PUBLIC_URL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.url({ protocol: /^https?$/ }).optional(),
    ),
    MESHGATE_JWT_ISSUERS: z.preprocess((v) => (v === undefined || v === '' ? '[]' : v), JwtIssuersFromJson),
    INGRESS_REQUEST_STATE_KEY: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.string().min(32, 'at least 32 characters (e.g. 32 random bytes, base64)').optional(),
    ),
    INGRESS_MRTR_HOLD_MS: Int(1000, 3_600_000, 300_000),
    INGRESS_MAX_HOLDS: Int(1, 1_000_000, 10_000),
    INGRESS_MAX_LISTENS_PER_PRINCIPAL: Int(1, 10_000, 16),
  })
  .refine((e) => e.MESHGATE_JWT_ISSUERS.length === 0 || e.MESHGATE_PUBLIC_URL !== undefined, {
    path: ['MESHGATE_PUBLIC_URL'],
    message: 'required with MESHGATE_JWT_ISSUERS: tokens are issued for the gateway URL agents use',
  });

/** The validated configuration of one ingress instance (see README for each variable). */
export const IngressConfig = z.object({
  port: z.number().int(),
  host: z.string(),
  natsUrl: z.string(),
  logLevel: z.string(),
  instanceId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  /** Origins allowed besides the loopback ones. */
  allowedOrigins: z.array(z.string()),
  /** Host header values allowed besides the loopback ones. */
  allowedHosts: z.array(z.string()),
  /** `MESHGATE_ALLOWED_HOSTS=*`: no Host check at all. */
  anyHost: z.boolean(),
  maxBodyBytes: z.number().int(),
  requestTimeoutMs: z.number().int(),
  sessionTtlS: z.number().int(),
  eventsMaxAgeS: z.number().int(),
  eventsMaxPerStream: z.number().int(),
  eventsMaxBytes: z.number().int(),
  /** Open streams (calls in flight and GET streams) in this process, and per session. */
  maxStreams: z.number().int(),
  maxStreamsPerSession: z.number().int(),
  keepAliveMs: z.number().int(),
  retryMs: z.number().int(),
  /** How often a router replica holding calls of this replica is probed (router-liveness.ts). */
  routerProbeMs: z.number().int(),
  /** Messages one JSON-RPC batch may hold (2025-03-26 sessions); a larger batch is refused whole. */
  maxBatch: z.number().int(),
  /** Requests of one batch in flight at once. */
  batchConcurrency: z.number().int(),
  /** How long a legacy HTTP+SSE stream waits for the POST of its `initialize` before it is closed. */
  legacyInitTimeoutMs: z.number().int(),
  /** The audit trail (ADR 003): off, or the publisher's mode, spool directory and spool bound. */
  audit: z.object({
    enabled: z.boolean(),
    mode: AuditMode,
    spoolDir: z.string(),
    spoolMaxBytes: z.number().int(),
    lingerMs: z.number().int(),
  }),
  /** The KV bucket of API keys behind the admin API `/admin/v1/keys` (a field so tests can isolate it). */
  apiKeysBucket: z.string(),
  /**
   * Authentication of the MCP endpoints: `on` (API keys, and JWTs of the configured issuers), or `none`
   * (every request runs as the anonymous agent; local trials only). `publicUrl` is the gateway's URL as
   * agents reach it, the base of its OAuth resource identifiers; unset, the listening address.
   */
  auth: z.object({
    mode: z.enum(['on', 'none']),
    publicUrl: z.string().optional(),
    jwtIssuers: z.array(JwtIssuerConfig),
  }),
  /**
   * The stateless 2026-07-28 era: the key of requestState MACs and virtual session ids (shared by every
   * replica; unset, one is created once in KV `mg_ingress_secrets`), how long a call waits for the agent's
   * answers to its input requests, how many such calls a replica holds, and how many `subscriptions/listen`
   * streams one principal may keep open on a replica.
   */
  modern: z.object({
    requestStateKey: z.string().optional(),
    holdMs: z.number().int(),
    maxHolds: z.number().int(),
    maxListensPerPrincipal: z.number().int(),
  }),
});
export type IngressConfig = z.infer<typeof IngressConfig>;

/** Reads the ingress configuration from `env`; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): IngressConfig {
  const e = parseEnv(IngressEnv, env);
  const anyHost = e.MESHGATE_ALLOWED_HOSTS.includes('*');
  return {
    port: e.PORT,
    host: e.HOST,
    natsUrl: e.NATS_URL,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? newInstanceId('ingress'),
    allowedOrigins: e.MESHGATE_ALLOWED_ORIGINS.map((o) => o.toLowerCase().replace(/\/+$/, '')),
    allowedHosts: e.MESHGATE_ALLOWED_HOSTS.filter((h) => h !== '*').map((h) => h.toLowerCase()),
    anyHost,
    maxBodyBytes: e.MESHGATE_MAX_BODY_BYTES,
    requestTimeoutMs: e.MESHGATE_REQUEST_TIMEOUT_MS,
    sessionTtlS: e.MESHGATE_SESSION_TTL_S,
    eventsMaxAgeS: e.MESHGATE_EVENTS_MAX_AGE_S,
    eventsMaxPerStream: e.MESHGATE_EVENTS_MAX_PER_STREAM,
    eventsMaxBytes: e.MESHGATE_EVENTS_MAX_BYTES,
    maxStreams: e.MESHGATE_MAX_STREAMS,
    maxStreamsPerSession: e.MESHGATE_MAX_STREAMS_PER_SESSION,
    keepAliveMs: e.MESHGATE_SSE_KEEPALIVE_MS,
    retryMs: e.MESHGATE_SSE_RETRY_MS,
    routerProbeMs: e.MESHGATE_ROUTER_PROBE_MS,
    maxBatch: e.MESHGATE_MAX_BATCH,
    batchConcurrency: e.MESHGATE_BATCH_CONCURRENCY,
    legacyInitTimeoutMs: e.MESHGATE_LEGACY_INIT_TIMEOUT_MS,
    audit: {
      enabled: e.MESHGATE_AUDIT === 'on',
      mode: e.MESHGATE_AUDIT_MODE,
      spoolDir: e.MESHGATE_AUDIT_SPOOL_DIR,
      spoolMaxBytes: e.MESHGATE_AUDIT_SPOOL_MAX_BYTES,
      lingerMs: e.MESHGATE_AUDIT_LINGER_MS,
    },
    apiKeysBucket: Buckets.apiKeys,
    auth: {
      mode: e.MESHGATE_AUTH,
      ...(e.MESHGATE_PUBLIC_URL !== undefined
        ? { publicUrl: e.MESHGATE_PUBLIC_URL.replace(/\/+$/, '') }
        : {}),
      jwtIssuers: e.MESHGATE_JWT_ISSUERS,
    },
    modern: {
      ...(e.INGRESS_REQUEST_STATE_KEY !== undefined ? { requestStateKey: e.INGRESS_REQUEST_STATE_KEY } : {}),
      holdMs: e.INGRESS_MRTR_HOLD_MS,
      maxHolds: e.INGRESS_MAX_HOLDS,
      maxListensPerPrincipal: e.INGRESS_MAX_LISTENS_PER_PRINCIPAL,
    },
  };
}
