import { availableParallelism } from 'node:os';
/**
 * The archiver's configuration: a pure function of the environment, validated once at start-up. Every bad
 * variable is named in one error (see parseEnv). Stream, consumer and bucket names are fields so that tests
 * can isolate themselves; the environment never changes them.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { AuditMode } from '@meshgate/audit';
import { CommonEnv, newInstanceId, parseEnv } from '@meshgate/config';
import { AuditStream, Buckets } from '@meshgate/contracts';
import type { JsAuditArchiveOptions } from '@meshgate/store';

const Int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,12}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/** The variables the archiver reads. */
export const AuditEnv = z.object({
  ...CommonEnv,
  AUDIT_PORT: Int(0, 65_535).default(8082),
  AUDIT_HOST: z.string().min(1).default('127.0.0.1'),
  MESHGATE_AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  MESHGATE_AUDIT_DATA_DIR: z.string().min(1).default('./data/audit'),
  MESHGATE_AUDIT_CHECKPOINT_EVERY: Int(1, 10_000_000).default(1_000),
  MESHGATE_AUDIT_CHECKPOINT_S: Int(1, 86_400).default(60),
  MESHGATE_AUDIT_MAX_ACK_PENDING: Int(1, 100_000).default(256),
  MESHGATE_AUDIT_ACK_WAIT_S: Int(1, 3_600).default(10),
  MESHGATE_AUDIT_BATCH_WAIT_MS: Int(0, 5_000).default(250),
  MESHGATE_AUDIT_STREAM_MAX_AGE_S: Int(0, 10 * 365 * 86_400).default(30 * 86_400),
  MESHGATE_AUDIT_STREAM_REPLICAS: Int(1, 5).default(1),
  MESHGATE_AUDIT_STREAM_MAX_BYTES: Int(1024 ** 2, 2 ** 50).default(10 * 1024 ** 3),
  /** `api-key` (default): every read needs an API key with the auditor role; `none`: local trials only. */
  MESHGATE_AUDIT_AUTH: z.enum(['api-key', 'none']).default('api-key'),
  /** The interim tokens are gone; a leftover setting is named instead of silently ignored. */
  MESHGATE_AUDIT_API_TOKENS: z
    .undefined({
      error:
        'was replaced by API keys with the auditor role ("meshgate keys create --role auditor"); unset it',
    })
    .optional(),
  MESHGATE_AUDIT_SPOOL_DIR: z.string().min(1).optional(),
  MESHGATE_AUDIT_MODE: AuditMode.default('fail-open'),
  MESHGATE_AUDIT_TAIL_KEEPALIVE_S: Int(1, 3_600).default(15),
  MESHGATE_AUDIT_MAX_TAILS: Int(1, 10_000).default(64),
  /** The archive is on MongoDB when MONGO_URL is set, else on JetStream; retention 0 keeps records forever. */
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// connection string')
    .optional(),
  MESHGATE_AUDIT_MONGO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, "_" and "-", at most 63')
    .default('meshgate'),
  MESHGATE_AUDIT_RETENTION_DAYS: Int(0, 24_855).default(0),
  /** Event ids the embedded archive keeps in memory for its duplicate check (about 100 bytes each). */
  MESHGATE_AUDIT_INDEX_MAX_IDS: Int(1_000, 100_000_000).default(1_000_000),
  /** How far a publisher's clock may be ahead of NATS's: bounds where an id older than the index is looked for. */
  MESHGATE_AUDIT_CLOCK_SKEW_MS: Int(0, 3_600_000).default(10_000),
  /**
   * The archiver process's niceness: it catches up in the background, so where it shares cores with the
   * request path (one machine, `meshgate start`) it gives way to it. 0 keeps the default priority.
   */
  MESHGATE_AUDIT_NICE: Int(0, 19).default(10),
  /**
   * Threads that read (decode, validate, write the canonical form of) stream messages beside the archiving
   * thread; 0 reads on that thread. Default: 1 where the machine has more than one core, else 0.
   */
  MESHGATE_AUDIT_READER_THREADS: Int(0, 16).optional(),
});
export type AuditEnv = z.infer<typeof AuditEnv>;

/** Everything `start` needs. */
export interface AuditConfig {
  natsUrl: string;
  logLevel: AuditEnv['LOG_LEVEL'];
  instanceId: string;
  /** Reader threads beside the archiving thread (reader-pool.ts); 0 reads on that thread. */
  readerThreads: number;
  /** Niceness the process takes at start (main.ts): 0..19. */
  nice: number;
  /** Probe, metrics and API address (loopback by default); port 0 picks a free port. */
  host: string;
  port: number;
  /** PKCS#8 PEM of the Ed25519 checkpoint key; else the key file under `dataDir`. */
  signingKeyPem?: string;
  dataDir: string;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  /** The audit stream (created when missing, as the publishers do) and its retention. */
  stream: { name: string; subjects: string; maxAgeMs: number; maxBytes: number; replicas: number };
  /** The durable consumer shared by every replica. */
  /** `batchWaitMs`: the least time between two batches of a tenant, unless a full batch waits. */
  consumer: { durable: string; maxAckPending: number; ackWaitMs: number; batchWaitMs: number };
  /** Where invalid events go: a stream of its own, outside `mg.audit.>`. */
  deadLetter: { stream: string; subject: string };
  archive: JsAuditArchiveOptions & { stream: string; subjectPrefix: string };
  /** Set when the archive is on MongoDB instead (then `archive` is not used for records). */
  mongo?: { url: string; dbName: string; retentionDays: number };
  api: {
    /** `api-key`: reads need an API key from `keysBucket` that may act as auditor; `none`: open. */
    auth: { mode: 'api-key' | 'none'; keysBucket: string };
    /** Spool of the publisher that records the API's own reads in the trail; one per replica. */
    spoolDir: string;
    mode: AuditMode;
    keepAliveMs: number;
    maxTails: number;
  };
}

/** Reads the archiver's configuration from `env`; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AuditConfig {
  const e = parseEnv(AuditEnv, env);
  return {
    natsUrl: e.NATS_URL,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID ?? newInstanceId('audit'),
    nice: e.MESHGATE_AUDIT_NICE,
    readerThreads: e.MESHGATE_AUDIT_READER_THREADS ?? (availableParallelism() > 1 ? 1 : 0),
    host: e.AUDIT_HOST,
    port: e.AUDIT_PORT,
    ...(e.MESHGATE_AUDIT_SIGNING_KEY !== undefined ? { signingKeyPem: e.MESHGATE_AUDIT_SIGNING_KEY } : {}),
    dataDir: e.MESHGATE_AUDIT_DATA_DIR,
    checkpointEvery: e.MESHGATE_AUDIT_CHECKPOINT_EVERY,
    checkpointIntervalMs: e.MESHGATE_AUDIT_CHECKPOINT_S * 1_000,
    stream: {
      name: AuditStream,
      subjects: 'mg.audit.>',
      maxAgeMs: e.MESHGATE_AUDIT_STREAM_MAX_AGE_S * 1_000,
      maxBytes: e.MESHGATE_AUDIT_STREAM_MAX_BYTES,
      replicas: e.MESHGATE_AUDIT_STREAM_REPLICAS,
    },
    consumer: {
      durable: 'audit-archiver',
      maxAckPending: e.MESHGATE_AUDIT_MAX_ACK_PENDING,
      ackWaitMs: e.MESHGATE_AUDIT_ACK_WAIT_S * 1_000,
      batchWaitMs: e.MESHGATE_AUDIT_BATCH_WAIT_MS,
    },
    deadLetter: { stream: 'MG_AUDIT_DEAD', subject: 'mg.deadletter.audit' },
    archive: {
      stream: 'MG_AUDIT_ARCHIVE',
      subjectPrefix: 'mg.archive',
      maxAgeMs: e.MESHGATE_AUDIT_RETENTION_DAYS * 86_400_000,
      indexMaxIds: e.MESHGATE_AUDIT_INDEX_MAX_IDS,
      clockSkewMs: e.MESHGATE_AUDIT_CLOCK_SKEW_MS,
    },
    ...(e.MONGO_URL !== undefined
      ? {
          mongo: {
            url: e.MONGO_URL,
            dbName: e.MESHGATE_AUDIT_MONGO_DB,
            retentionDays: e.MESHGATE_AUDIT_RETENTION_DAYS,
          },
        }
      : {}),
    api: {
      auth: { mode: e.MESHGATE_AUDIT_AUTH, keysBucket: Buckets.apiKeys },
      spoolDir: e.MESHGATE_AUDIT_SPOOL_DIR ?? join(e.MESHGATE_AUDIT_DATA_DIR, 'spool'),
      mode: e.MESHGATE_AUDIT_MODE,
      keepAliveMs: e.MESHGATE_AUDIT_TAIL_KEEPALIVE_S * 1_000,
      maxTails: e.MESHGATE_AUDIT_MAX_TAILS,
    },
  };
}
