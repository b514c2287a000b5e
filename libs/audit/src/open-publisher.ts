/**
 * Opening the audit publisher of one service replica: claim its spool directory (spool-lock.ts), create the
 * `MG_AUDIT` stream when it is missing (never reconfigure one that exists: the audit service owns its
 * retention), then start `AuditPublisher`. A stream that cannot be checked is no reason not to start: the
 * publisher spools until the stream answers.
 */
import { JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AuditPublisher } from './publisher';
import { ensureAuditStream } from './stream';
import type { AuditMode } from './publisher-options';
import type { Logger } from '@meshgate/config';
import { AuditStream } from '@meshgate/contracts';
import { claimSpoolDir } from './spool-lock';

/** JetStream's "stream not found". */
const StreamNotFound = 10059;

/** The publisher settings a service reads from its environment. */
export interface AuditSettings {
  mode: AuditMode;
  spoolDir: string;
  spoolMaxBytes: number;
  /** How long events wait to share a message (the publisher's `lingerMs`). */
  lingerMs?: number;
}

/** A started publisher and the stop that also releases its spool directory. */
export interface OpenedPublisher {
  publisher: AuditPublisher;
  spoolDir: string;
  stop(): Promise<void>;
}

async function ensureStreamExists(nc: NatsConnection, logger: Logger): Promise<void> {
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    try {
      await jsm.streams.info(AuditStream);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== StreamNotFound) throw err;
      await ensureAuditStream(jsm);
      logger.info({ stream: AuditStream }, 'audit stream created');
    }
  } catch (err) {
    logger.warn({ err }, 'audit stream not checked; events are spooled until it answers');
  }
}

/** Claims the spool, makes sure the stream exists and starts the publisher. */
export async function openAuditPublisher(
  nc: NatsConnection,
  service: string,
  instanceId: string,
  settings: AuditSettings,
  logger: Logger,
): Promise<OpenedPublisher> {
  const claim = await claimSpoolDir(settings.spoolDir, instanceId);
  try {
    await ensureStreamExists(nc, logger);
    const publisher = await AuditPublisher.start(
      nc,
      {
        spoolDir: claim.dir,
        spoolMaxBytes: settings.spoolMaxBytes,
        mode: settings.mode,
        ...(settings.lingerMs !== undefined ? { lingerMs: settings.lingerMs } : {}),
      },
      logger.child({ component: 'audit' }),
    );
    logger.info({ service, spoolDir: claim.dir, mode: settings.mode }, 'audit trail on');
    return {
      publisher,
      spoolDir: claim.dir,
      async stop() {
        await publisher.stop();
        await claim.release();
      },
    };
  } catch (err) {
    await claim.release();
    throw err;
  }
}
