/**
 * The audit API over a real archive on the shared test NATS (isolated names): a seeded archive, the app
 * built with `buildHttpApp` and a trail that keeps every event the API publishes, so tests can check
 * that reads are audited and can close the trail's admission.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '@meshgate/config';
import type { AuditEvent } from '@meshgate/contracts';
import { JsAuditArchive } from '@meshgate/store';
import type { ApiToken } from '../src/api-auth';
import { archiveFeed } from '../src/archive-feed';
import { archiveEvent } from '../src/archiver';
import { signingKeyFrom } from '../src/checkpoint';
import { buildHttpApp } from '../src/http-app';
import type { Isolated } from './nats-fixture';

export interface ApiUnderTest {
  app: FastifyInstance;
  archive: JsAuditArchive;
  /** Events the API published about its own reads. */
  audited: AuditEvent[];
  /** Set to false to make the trail refuse new events (a full fail-closed spool). */
  admission: { open: boolean };
  /** Archives events in order, as the archiver does. */
  archiveAll(events: AuditEvent[]): Promise<void>;
}

/** Builds the API on the isolated archive of `iso`. */
export async function apiUnderTest(
  nc: NatsConnection,
  iso: Isolated,
  opts: { tokens?: ApiToken[]; keepAliveMs?: number; maxTails?: number } = {},
): Promise<ApiUnderTest> {
  const archive = await JsAuditArchive.open(nc, iso.archive);
  const audited: AuditEvent[] = [];
  const admission = { open: true };
  const app = buildHttpApp({
    ready: () => Promise.resolve(),
    metrics: new Registry(),
    logger: createLogger('audit-api-test', 'silent'),
    api: {
      archive,
      key: signingKeyFrom(generateKeyPairSync('ed25519').privateKey),
      tokens: opts.tokens ?? [],
      trail: { publish: (event) => void audited.push(event), admission: () => admission.open },
      instanceId: 'audit-test-1',
      openFeed: archiveFeed(nc, iso.archive, () => undefined),
      tail: { keepAliveMs: opts.keepAliveMs ?? 15_000, maxTails: opts.maxTails ?? 8 },
      version: '0.1.0',
    },
  });
  return {
    app,
    archive,
    audited,
    admission,
    async archiveAll(events) {
      for (const e of events) {
        const out = await archiveEvent(archive, e);
        if (out.status !== 'archived') throw new Error(`event ${e.id} not archived: ${out.status}`);
      }
    },
  };
}
