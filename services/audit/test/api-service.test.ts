/**
 * The whole audit service with its API on a private NATS (so the fixed subjects `mg.audit.>` and the verify
 * endpoint are its own): events published to MG_AUDIT are archived and queried over HTTP with an API key,
 * and the API's own reads come back through the stream into the archive as `request-received` events of
 * the `audit` service, in the queried tenant's verified chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ApiKeyStore } from '@meshgate/auth';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { EventsPage, VerifyAnswer } from '../src/api-answers';
import { loadConfig } from '../src/config';
import { start, type AuditHandle } from '../src/service';
import { responseSent } from './events';

let apiKey: string;
let nats: SpawnedNats;
let nc: NatsConnection;
let audit: AuditHandle;
let dataDir: string;

beforeAll(async () => {
  nats = await spawnNats();
  nc = await connect({ servers: nats.url });
  dataDir = mkdtempSync(join(tmpdir(), 'mg-audit-api-'));
  const keys = await ApiKeyStore.open(nc);
  ({ apiKey } = await keys.create({
    tenant: 'acme',
    principal: 'sec-team',
    kind: 'user',
    roles: ['auditor'],
  }));
  audit = await start(
    loadConfig({
      NATS_URL: nats.url,
      LOG_LEVEL: 'silent',
      AUDIT_PORT: '0',
      MESHGATE_AUDIT_DATA_DIR: dataDir,
    }),
  );
});
afterAll(async () => {
  await audit?.stop();
  await nc?.drain();
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const auth = () => ({ authorization: `Bearer ${apiKey}` });
async function events(query: string): Promise<EventsPage> {
  const res = await fetch(`${audit.url}/v1/audit/events?tenant=acme&${query}`, { headers: auth() });
  expect(res.status).toBe(200);
  return EventsPage.parse(await res.json());
}
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('audit service API', () => {
  it('serves what the archiver archived, and audits its own reads into the same chain', async () => {
    const published = Array.from({ length: 3 }, (_, n) => responseSent('acme', n));
    for (const e of published)
      await jetstream(nc).publish(`mg.audit.acme.${e.kind}`, JSON.stringify(e), { msgID: e.id });
    await eventually(async () => (await events('kind=response-sent')).events.length === 3);
    expect((await events('kind=response-sent')).events.map((r) => r.event.id)).toEqual(
      published.map((e) => e.id),
    );

    await eventually(async () => (await events('kind=request-received')).events.length >= 2);
    const reads = (await events('kind=request-received')).events;
    expect(reads[0]!.event).toMatchObject({
      service: 'audit',
      tenant: 'acme',
      target: '/v1/audit/events',
      principal: 'acme/sec-team',
    });
    const denied = await fetch(`${audit.url}/v1/audit/events?tenant=acme`);
    expect(denied.status).toBe(401);
    await denied.text();
    await eventually(async () => (await events('kind=authentication')).events.length === 1);

    const verify = await fetch(`${audit.url}/v1/audit/verify?tenant=acme`, { headers: auth() });
    const report = VerifyAnswer.parse(await verify.json());
    expect(verify.status).toBe(200);
    expect(report).toMatchObject({ ok: true, findings: [], publicKey: audit.publicKeyPem });
    expect(report.checked).toBeGreaterThanOrEqual(6);
  });
});
