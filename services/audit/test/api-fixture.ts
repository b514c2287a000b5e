/**
 * The audit API over a real archive on the shared test NATS (isolated names): a seeded archive, the app
 * built with `buildHttpApp`, a trail that keeps every event the API publishes (so tests can check that
 * reads are audited and can close the trail's admission), and API keys in a bucket of its own, with an
 * auditor key for each tenant the tests read, verified by a real watch-fed verifier.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { ApiKeyStore, ApiKeyVerifier } from '@meshgate/auth';
import { createLogger } from '@meshgate/config';
import type { AuditEvent } from '@meshgate/contracts';
import { JsAuditArchive } from '@meshgate/store';
import { archiveFeed } from '../src/archive-feed';
import { archiveEvent } from '../src/archiver';
import { signingKeyFrom } from '../src/checkpoint';
import { buildHttpApp } from '../src/http-app';
import type { Isolated } from './nats-fixture';

/** Tenants that get an auditor key unless a test names others. */
const TENANTS = ['acme', 'globex', 'resume', 'csv', 'nobody'];

export interface ApiUnderTest {
  app: FastifyInstance;
  archive: JsAuditArchive;
  /** The API keys the app verifies against. */
  keys: ApiKeyStore;
  /** Events the API published about its own reads. */
  audited: AuditEvent[];
  /** Set to false to make the trail refuse new events (a full fail-closed spool). */
  admission: { open: boolean };
  /** The Authorization header of the auditor of `tenant` (principal `auditor-<tenant>`). */
  auditor(tenant: string): { authorization: string };
  /** Archives events in order, as the archiver does. */
  archiveAll(events: AuditEvent[]): Promise<void>;
  /** Closes the app, stops the verifier and destroys the key bucket. */
  close(): Promise<void>;
}

/** Builds the API on the isolated archive of `iso`; `auth: 'none'` opens it as MESHGATE_AUDIT_AUTH=none does. */
export async function apiUnderTest(
  nc: NatsConnection,
  iso: Isolated,
  opts: { auth?: 'api-key' | 'none'; keepAliveMs?: number; maxTails?: number } = {},
): Promise<ApiUnderTest> {
  const archive = await JsAuditArchive.open(nc, iso.archive);
  const bucket = `mg_test_api_keys_${randomBytes(5).toString('hex')}`;
  const keys = await ApiKeyStore.open(nc, { bucket });
  const headers = new Map<string, string>();
  for (const tenant of TENANTS) {
    const issued = await keys.create({
      tenant,
      principal: `auditor-${tenant}`,
      kind: 'user',
      roles: ['auditor'],
    });
    headers.set(tenant, `Bearer ${issued.apiKey}`);
  }
  const verifier = await ApiKeyVerifier.start(nc, { bucket });
  const audited: AuditEvent[] = [];
  const admission = { open: true };
  const app = buildHttpApp({
    ready: () => Promise.resolve(),
    metrics: new Registry(),
    logger: createLogger('audit-api-test', 'silent'),
    api: {
      archive,
      key: signingKeyFrom(generateKeyPairSync('ed25519').privateKey),
      auth: opts.auth === 'none' ? { mode: 'none' } : { mode: 'api-key', verifier },
      trail: {
        publish: (event) => void audited.push(typeof event === 'function' ? event() : event),
        admission: () => admission.open,
      },
      instanceId: 'audit-test-1',
      openFeed: archiveFeed(archive, { pollMs: 50 }),
      tail: { keepAliveMs: opts.keepAliveMs ?? 15_000, maxTails: opts.maxTails ?? 8 },
      version: '0.1.0',
    },
  });
  return {
    app,
    archive,
    keys,
    audited,
    admission,
    auditor(tenant) {
      const authorization = headers.get(tenant);
      if (authorization === undefined) throw new Error(`no auditor key for tenant ${tenant}`);
      return { authorization };
    },
    async archiveAll(events) {
      for (const e of events) {
        const out = await archiveEvent(archive, e);
        if (out.status !== 'archived') throw new Error(`event ${e.id} not archived: ${out.status}`);
      }
    },
    async close() {
      await app.close();
      await verifier.stop();
      await (await new Kvm(nc).open(bucket)).destroy().catch(() => false);
    },
  };
}
