/**
 * The audit API's reads through `inject()` over a real archive: every filter, cursor pagination that
 * neither repeats nor misses a record, the export in JSON lines and CSV (with hostile fields), the OpenAPI
 * document and the public key, and that each read is itself recorded in the trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AuditEvent } from '@meshgate/contracts';
import { ArchiveRecord } from '@meshgate/store';
import { EventsPage } from '../src/api-answers';
import { apiUnderTest, type ApiUnderTest } from './api-fixture';
import { responseSent } from './events';
import { cleanup, isolate, type Isolated } from './nats-fixture';

let nc: NatsConnection;
let iso: Isolated;
let api: ApiUnderTest;
const acme: AuditEvent[] = [];

/** 30 acme events: every third an upstream call to server "fs", principals alternating, one error. */
function seed(): AuditEvent[] {
  return Array.from({ length: 30 }, (_, n): AuditEvent => {
    const base = responseSent('acme', n);
    return {
      ...base,
      kind: n % 3 === 0 ? 'upstream-call' : 'response-sent',
      principal: n % 2 === 0 ? 'alice' : 'bob',
      ...(n % 3 === 0 ? { server: 'fs', target: 'read_file' } : {}),
      outcome: n === 7 ? 'error' : 'ok',
    };
  });
}

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  iso = isolate();
  api = await apiUnderTest(nc, iso);
  acme.push(...seed());
  // Interleave another tenant, so tenant isolation and page cursors skip foreign records.
  for (let n = 0; n < 30; n++) {
    await api.archiveAll([acme[n]!]);
    if (n % 5 === 0) await api.archiveAll([responseSent('globex', n)]);
  }
});
afterAll(async () => {
  await api.close();
  await cleanup(nc, iso);
  await nc.drain();
});

async function page(query: string): Promise<EventsPage> {
  const tenant = new URLSearchParams(query).get('tenant') ?? 'acme';
  const res = await api.app.inject({
    method: 'GET',
    url: `/v1/audit/events?${query}`,
    headers: api.auditor(tenant),
  });
  expect(res.statusCode, res.body).toBe(200);
  return EventsPage.parse(res.json());
}
const ids = (p: { events: ArchiveRecord[] }) => p.events.map((r) => r.event.id);
const idsOf = (events: AuditEvent[]) => events.map((e) => e.id);

describe('GET /v1/audit/events', () => {
  it('answers the tenant records in archive order with their chain links', async () => {
    const p = await page('tenant=acme&limit=1000');
    expect(ids(p)).toEqual(idsOf(acme));
    expect(p.events.map((r) => r.link.seq)).toEqual(acme.map((_, i) => i + 1));
    expect(p.nextCursor).toBeNull();
    expect(ids(await page('tenant=globex'))).toHaveLength(6);
    expect(ids(await page('tenant=nobody'))).toEqual([]);
  });

  it('applies every filter', async () => {
    const expectIds = async (query: string, keep: (e: AuditEvent, n: number) => boolean) =>
      expect(ids(await page(`tenant=acme&limit=1000&${query}`))).toEqual(idsOf(acme.filter(keep)));
    await expectIds('kind=upstream-call', (e) => e.kind === 'upstream-call');
    await expectIds('principal=bob', (e) => e.principal === 'bob');
    await expectIds('server=fs', (e) => e.server === 'fs');
    await expectIds(
      'target=read_file&principal=alice',
      (e) => e.target === 'read_file' && e.principal === 'alice',
    );
    await expectIds('outcome=error', (_, n) => n === 7);
    await expectIds(`traceId=${acme[4]!.traceId}`, (_, n) => n === 4);
    const from = encodeURIComponent(acme[10]!.time);
    const to = encodeURIComponent(acme[20]!.time);
    await expectIds(`from=${from}&to=${to}`, (_, n) => n >= 10 && n < 20);
  });

  it('pages with a stable cursor: every record once, in order, under filters too', async () => {
    for (const [query, expected] of [
      ['tenant=acme&limit=7', acme],
      ['tenant=acme&limit=4&kind=response-sent', acme.filter((e) => e.kind === 'response-sent')],
    ] as const) {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const p: EventsPage = await page(`${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(p.events.length).toBeLessThanOrEqual(Number(/limit=(\d+)/.exec(query)![1]));
        seen.push(...ids(p));
        cursor = p.nextCursor;
        if (cursor === null) break;
      }
      expect(cursor).toBeNull();
      expect(seen).toEqual(idsOf(expected));
    }
  });

  it('records each read in the trail as request-received of the audit service', async () => {
    const before = api.audited.length;
    await api.app.inject({
      url: '/v1/audit/events?tenant=acme&kind=cache-hit',
      headers: { ...api.auditor('acme'), traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` },
    });
    const event = api.audited[before];
    expect(api.audited).toHaveLength(before + 1);
    expect(event).toMatchObject({
      kind: 'request-received',
      service: 'audit',
      tenant: 'acme',
      traceId: 'ab'.repeat(16),
      method: 'GET',
      target: '/v1/audit/events',
      principal: 'acme/auditor-acme',
      clientAddress: '127.0.0.1',
      arguments: { redacted: { tenant: 'acme', kind: 'cache-hit' } },
    });
  });
});

describe('GET /v1/audit/events/export', () => {
  it('streams every page as JSON lines', async () => {
    const res = await api.app.inject({
      url: '/v1/audit/events/export?tenant=acme',
      headers: api.auditor('acme'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="audit-acme.jsonl"');
    const lines = res.body.trimEnd().split('\n');
    expect(lines.map((l) => ArchiveRecord.parse(JSON.parse(l)).event.id)).toEqual(idsOf(acme));
  });

  it('escapes commas, quotes, line breaks and formulas in CSV', async () => {
    const iso2 = isolate();
    const api2 = await apiUnderTest(nc, iso2);
    try {
      const hostile = {
        ...responseSent('csv', 1),
        principal: 'Doe, "J"\nsecond line',
        target: '=HYPERLINK("http://x")',
        error: { code: -32000, message: 'a,b' },
        outcome: 'error',
      } as AuditEvent;
      await api2.archiveAll([responseSent('csv', 0), hostile]);
      const res = await api2.app.inject({
        url: '/v1/audit/events/export?tenant=csv&format=csv&outcome=error',
        headers: api2.auditor('csv'),
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      const [header, line, rest] = res.body.split('\r\n');
      expect(header).toBe(
        'seq,hash,id,time,tenant,kind,principal,session,traceId,service,instance,method,requestId,server,target,outcome,details',
      );
      expect(rest).toBe('');
      const record = (await api2.archive.getById(hostile.id))!;
      expect(line).toBe(
        [
          '2',
          record.link.hash,
          hostile.id,
          hostile.time,
          'csv',
          'response-sent',
          '"Doe, ""J""\nsecond line"',
          '',
          hostile.traceId,
          'ingress',
          'ingress-1',
          '',
          '',
          '',
          `"'=HYPERLINK(""http://x"")"`,
          'error',
          '"{""error"":{""code"":-32000,""message"":""a,b""},""latencyMs"":1,""sizeBytes"":101}"',
        ].join(','),
      );
    } finally {
      await api2.close();
      await cleanup(nc, iso2);
    }
  });
});

describe('documents', () => {
  it('serves the OpenAPI 3.1 document generated from the schemas', async () => {
    const doc = (await api.app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual([
      '/v1/audit/events',
      '/v1/audit/events/export',
      '/v1/audit/tail',
      '/v1/audit/verify',
      '/v1/audit/public-key',
    ]);
    const params = doc.paths['/v1/audit/events'].get.parameters as Array<{
      name: string;
      required: boolean;
      schema: unknown;
    }>;
    expect(params.find((p) => p.name === 'tenant')).toMatchObject({
      required: true,
      schema: { type: 'string' },
    });
    expect(params.find((p) => p.name === 'kind')).toMatchObject({
      required: false,
      schema: { enum: expect.arrayContaining(['cache-hit']) },
    });
    expect(params.map((p) => p.name)).toContain('cursor');
    expect(doc.components.schemas.EventsPage.properties.events.type).toBe('array');
  });

  it('serves the public key without a token and without auditing', async () => {
    const before = api.audited.length;
    const res = await api.app.inject({ url: '/v1/audit/public-key' });
    expect(res.json()).toMatchObject({
      algorithm: 'Ed25519',
      publicKey: expect.stringContaining('BEGIN PUBLIC KEY'),
    });
    expect(api.audited).toHaveLength(before);
  });
});
