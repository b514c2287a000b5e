/**
 * The live tail over a real listening socket: an event archived after the stream opened arrives as an SSE
 * `audit` event (filters applied, other tenants never), keep-alive comments flow, a client reconnecting
 * with `Last-Event-ID` gets what it missed, the number of tails is bounded, and closing the app ends them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AuditEvent } from '@meshgate/contracts';
import { ArchiveRecord } from '@meshgate/store';
import { apiUnderTest, type ApiUnderTest } from './api-fixture';
import { responseSent } from './events';
import { cleanup, isolate, type Isolated } from './nats-fixture';
import { openSse, type SseClient } from './sse-client';

let nc: NatsConnection;
let iso: Isolated;
let api: ApiUnderTest;
let base: string;
const clients: SseClient[] = [];

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  iso = isolate();
  api = await apiUnderTest(nc, iso, { keepAliveMs: 100, maxTails: 3 });
  await api.archiveAll([responseSent('acme', 0)]);
  base = await api.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await api.close();
  await cleanup(nc, iso);
  await nc.drain();
});

/** Opens a tail as the auditor of the query's tenant. */
async function tail(query: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const tenant = new URLSearchParams(query).get('tenant') ?? '';
  const client = await openSse(`${base}/v1/audit/tail?${query}`, { ...api.auditor(tenant), ...headers });
  clients.push(client);
  return client;
}
const recordOf = (data: string) => ArchiveRecord.parse(JSON.parse(data));

describe('GET /v1/audit/tail', () => {
  it('delivers events archived after it opened, filtered, with keep-alives', async () => {
    const client = await tail('tenant=acme&principal=alice');
    expect(client.status).toBe(200);
    expect(client.contentType).toBe('text/event-stream; charset=utf-8');
    const other: AuditEvent = { ...responseSent('acme', 1), principal: 'bob' };
    const wanted: AuditEvent = { ...responseSent('acme', 2), principal: 'alice' };
    await api.archiveAll([responseSent('globex', 1), other, wanted]);
    const event = await client.nextEvent();
    expect(event.event).toBe('audit');
    expect(recordOf(event.data)).toMatchObject({ event: { id: wanted.id }, link: { seq: 3 } });
    expect(Number(event.id)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 350));
    expect(client.comments.filter((c) => c.includes('keep-alive')).length).toBeGreaterThanOrEqual(2);
    expect(api.audited.at(-1)).toMatchObject({ kind: 'request-received', target: '/v1/audit/tail' });
    client.close();
  });

  it('resumes after Last-Event-ID without missing or repeating an event', async () => {
    const first = await tail('tenant=resume');
    const a = responseSent('resume', 1);
    await api.archiveAll([a]);
    const seen = await first.nextEvent();
    first.close();
    const missed = [responseSent('resume', 2), responseSent('resume', 3)];
    await api.archiveAll(missed);
    const again = await tail('tenant=resume', { 'last-event-id': seen.id! });
    const ids = [
      recordOf((await again.nextEvent()).data).event.id,
      recordOf((await again.nextEvent()).data).event.id,
    ];
    expect(ids).toEqual(missed.map((e) => e.id));
    again.close();
    const bad = await fetch(`${base}/v1/audit/tail?tenant=resume`, {
      headers: { ...api.auditor('resume'), 'last-event-id': 'abc' },
    });
    expect(bad.status).toBe(400);
    await bad.text();
  });

  it('bounds the tails open at once with a 503', async () => {
    const open = [await tail('tenant=acme'), await tail('tenant=acme'), await tail('tenant=acme')];
    const refused = await fetch(`${base}/v1/audit/tail?tenant=acme`, { headers: api.auditor('acme') });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    await refused.text();
    for (const c of open) c.close();
    // Closed tails free their slots.
    const end = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < end && status !== 200) {
      const probe = await openSse(`${base}/v1/audit/tail?tenant=acme`, api.auditor('acme'));
      status = probe.status;
      probe.close();
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
  });

  it('ends open tails when the app closes', async () => {
    const own = await apiUnderTest(nc, iso, { keepAliveMs: 60_000 });
    const url = await own.app.listen({ host: '127.0.0.1', port: 0 });
    const client = await openSse(`${url}/v1/audit/tail?tenant=acme`, own.auditor('acme'));
    clients.push(client);
    expect(client.status).toBe(200);
    const started = Date.now();
    await own.app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await own.close();
  });
});
