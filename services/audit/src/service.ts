/**
 * The audit service process, composed: load the signing key (fail fast when it is wrong), connect to NATS,
 * open the archive, the dead-letter stream and the durable consumer, then serve the verify endpoint and the
 * HTTP app (probes, metrics, the audit API, whose reads are themselves published to the trail). `stop()`
 * closes the app (open tails end), the endpoint, the consumer (in-flight events finish), writes the last
 * checkpoints, stops the publisher and closes the connection, in that order; it is safe to call twice.
 */
import { AuditPublisher } from '@meshgate/audit';
import { ApiKeyVerifier } from '@meshgate/auth';
import { Bus } from '@meshgate/bus';
import { createLogger } from '@meshgate/config';
import { JsAuditArchive, MongoAuditArchive } from '@meshgate/store';
import manifest from '../package.json' with { type: 'json' };
import { archiveFeed } from './archive-feed';
import { startCheckpointer } from './checkpointer';
import type { AuditConfig } from './config';
import { startArchiverConsumer } from './consumer';
import { inlineReader, startReaderPool, type MessageReader } from './reader-pool';
import { ensureDeadLetterStream } from './dead-letter';
import { buildHttpApp } from './http-app';
import { createMetrics } from './metrics';
import { loadSigningKey } from './signing-key';
import { serveAudit } from './verify-endpoint';

/** A running archiver replica. */
export interface AuditHandle {
  /** Base URL of the HTTP app (probes and audit API), e.g. `http://127.0.0.1:8082`. */
  url: string;
  instanceId: string;
  /** SPKI PEM of the key that signs this replica's checkpoints. */
  publicKeyPem: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 2_000;

/** Starts one archiver replica. */
export async function start(config: AuditConfig): Promise<AuditHandle> {
  const log = createLogger('audit', config.logLevel, config.instanceId);
  const key = await loadSigningKey({
    dataDir: config.dataDir,
    ...(config.signingKeyPem !== undefined ? { pem: config.signingKeyPem } : {}),
  });
  const bus = await Bus.connect({ url: config.natsUrl, name: `meshgate-audit-${config.instanceId}` });
  let mongo: MongoAuditArchive | undefined;
  let reader: MessageReader = inlineReader;
  try {
    const onCorrupt = (streamSeq: number, reason: string) =>
      log.warn({ streamSeq, reason }, 'skipped an unreadable archive record');
    if (config.mongo)
      mongo = await MongoAuditArchive.open(config.mongo.url, {
        dbName: config.mongo.dbName,
        retentionDays: config.mongo.retentionDays,
        onCorrupt: (recordId, reason) =>
          log.warn({ recordId, reason }, 'skipped an unreadable archive record'),
      });
    const archive = mongo ?? (await JsAuditArchive.open(bus.nc, { ...config.archive, onCorrupt }));
    await ensureDeadLetterStream(bus.nc, config.deadLetter);
    let lag: () => Promise<number> = () => Promise.resolve(0);
    const metrics = createMetrics(() => lag());
    const checkpointer = startCheckpointer({
      archive,
      key,
      every: config.checkpointEvery,
      intervalMs: config.checkpointIntervalMs,
      onCheckpoint: () => metrics.checkpoints.inc(),
      onError: (err, tenant) => log.error({ err, tenant }, 'checkpoint failed'),
    });
    // Since when, and why, writes to the archive fail (a full disk, an unreachable store): /readyz says so.
    let failing: { since: string; message: string } | null = null;
    if (config.readerThreads > 0)
      reader = await startReaderPool(config.readerThreads, (err) =>
        log.error({ err }, 'an audit reader thread failed; its messages will be redelivered'),
      );
    const consumer = await startArchiverConsumer({
      nc: bus.nc,
      archive,
      config,
      reader,
      onArchived: (tenant, links) => {
        failing = null;
        metrics.archived.inc(links.length);
        checkpointer.archived(tenant, links);
      },
      onDuplicate: () => {
        failing = null;
        metrics.duplicates.inc();
      },
      onDeadLetter: (reason, subject) => {
        metrics.deadLetters.inc();
        log.warn({ reason, subject }, 'sent an invalid audit event to the dead letter');
      },
      onError: (err) => {
        metrics.archiveErrors.inc();
        failing ??= {
          since: new Date().toISOString(),
          message: err instanceof Error ? err.message : String(err),
        };
        log.error({ err }, 'archiving failed; the event will be redelivered');
      },
      onRestart: (reason) => log.warn({ reason }, 'the audit consumer pulls afresh'),
    });
    lag = () => consumer.lag();
    const endpoint = await serveAudit(bus, archive, key, {
      instanceId: config.instanceId,
      version: manifest.version,
      retentionMs: config.archive.maxAgeMs ?? 0,
      onError: (err, name) => log.error({ err, endpoint: name }, 'audit endpoint failed'),
    });
    const ready = () =>
      withTimeout(
        (async () => {
          if (bus.nc.isClosed()) throw new Error('the NATS connection is closed');
          await bus.nc.flush();
          await archive.ping();
          if (!consumer.alive()) throw new Error('the audit consumer is not pulling');
          if (failing) throw new Error(`archive writes fail since ${failing.since}: ${failing.message}`);
        })(),
        READY_TIMEOUT_MS,
      );
    const verifier =
      config.api.auth.mode === 'api-key'
        ? await ApiKeyVerifier.start(bus.nc, {
            bucket: config.api.auth.keysBucket,
            onCorrupt: (keyId, reason) => log.warn({ keyId, reason }, 'skipped an unreadable API key record'),
            onError: (err) => log.error({ err }, 'the API key watch failed; every read is refused'),
          })
        : undefined;
    if (!verifier) log.warn('MESHGATE_AUDIT_AUTH=none: the audit API answers anyone; for local trials only');
    const trail = await AuditPublisher.start(
      bus.nc,
      { spoolDir: config.api.spoolDir, mode: config.api.mode },
      log,
    );
    const app = buildHttpApp({
      ready,
      metrics: metrics.registry,
      logger: log,
      api: {
        archive,
        key,
        auth: verifier ? { mode: 'api-key', verifier } : { mode: 'none' },
        trail,
        instanceId: config.instanceId,
        openFeed: archiveFeed(archive),
        retentionMs: config.archive.maxAgeMs ?? 0,
        tail: { keepAliveMs: config.api.keepAliveMs, maxTails: config.api.maxTails },
        version: manifest.version,
      },
    });
    const url = await app.listen({ host: config.host, port: config.port }).catch(async (err: unknown) => {
      await endpoint.stop();
      await consumer.stop();
      await checkpointer.stop();
      await trail.stop();
      await verifier?.stop();
      await reader.close();
      throw err;
    });
    log.info({ url, keyId: key.keyId, publicKey: key.publicKeyPem }, 'audit archiver started');

    let stopping: Promise<void> | undefined;
    return {
      url,
      instanceId: config.instanceId,
      publicKeyPem: key.publicKeyPem,
      stop: () =>
        (stopping ??= (async () => {
          await app.close();
          await verifier?.stop();
          await endpoint.stop();
          await consumer.stop();
          await reader.close();
          await checkpointer.stop();
          await trail.stop();
          await mongo?.close();
          await bus.close();
          log.info('audit archiver stopped');
        })()),
    };
  } catch (err) {
    await reader.close();
    await mongo?.close();
    await bus.close();
    throw err;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
