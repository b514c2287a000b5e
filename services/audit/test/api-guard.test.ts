/**
 * The audit API's refusals and verification through `inject()`: problem details for bad and hostile query
 * strings (400), a missing or wrong token (401) and a token of another tenant (403), a trail that cannot
 * record the read (503); verification answering 200, then 409 with the findings after tampering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { parseApiTokens } from '../src/api-auth';
import { apiUnderTest, type ApiUnderTest } from './api-fixture';
import { responseSent } from './events';
import { cleanup, isolate, type Isolated } from './nats-fixture';

let nc: NatsConnection;
let iso: Isolated;
let api: ApiUnderTest;
const ACME_TOKEN = 'acme-auditor-token-0123456789';
const GLOBEX_TOKEN = 'globex-auditor-token-0123456789';

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  iso = isolate();
  api = await apiUnderTest(nc, iso, {
    tokens: parseApiTokens(`acme:${ACME_TOKEN}, globex:${GLOBEX_TOKEN}`),
  });
  await api.archiveAll(Array.from({ length: 5 }, (_, n) => responseSent('acme', n)));
});
afterAll(async () => {
  await api.app.close();
  await cleanup(nc, iso);
  await nc.drain();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
async function get(url: string, headers: Record<string, string> = bearer(ACME_TOKEN)) {
  const res = await api.app.inject({ method: 'GET', url, headers });
  return {
    status: res.statusCode,
    type: res.headers['content-type'],
    body: res.json(),
    headers: res.headers,
  };
}

describe('refusals', () => {
  it('answers 400 problem details for bad and hostile query strings', async () => {
    const cases: Array<[string, string]> = [
      ['/v1/audit/events', 'tenant'],
      ['/v1/audit/events?tenant=acme&limit=0', 'limit'],
      ['/v1/audit/events?tenant=acme&limit=1001', 'limit'],
      ['/v1/audit/events?tenant=acme&limit=1e3', 'limit'],
      ['/v1/audit/events?tenant=acme&kind=everything', 'kind'],
      ['/v1/audit/events?tenant=acme&from=yesterday', 'from'],
      ['/v1/audit/events?tenant=acme&traceId=XYZ', 'traceId'],
      ['/v1/audit/events?tenant=acme&tenant=globex', 'tenant'],
      ['/v1/audit/events?tenant=acme&principals=bob', 'principals'],
      ['/v1/audit/events?tenant=acme&tenant[$ne]=x', 'tenant[$ne]'],
      ['/v1/audit/events?tenant=acme&__proto__[admin]=1', '__proto__[admin]'],
      ['/v1/audit/events?tenant=mg.audit.>', 'tenant'],
      ['/v1/audit/events?tenant=..%2F..%2Fetc', 'tenant'],
      [`/v1/audit/events?tenant=acme&principal=${'p'.repeat(300)}`, 'principal'],
      ['/v1/audit/events?tenant=acme&cursor=s0', ''],
      ['/v1/audit/events?tenant=acme&cursor=%00%01', ''],
      ['/v1/audit/events/export?tenant=acme&format=xml', 'format'],
      ['/v1/audit/verify?tenant=acme&kind=cache-hit', 'kind'],
      ['/v1/audit/tail?tenant=acme&limit=5', 'limit'],
      ['/v1/audit/events?tenant=acme%', 'tenant'],
    ];
    for (const [url, parameter] of cases) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
      expect(res.type).toBe('application/problem+json; charset=utf-8');
      expect(res.body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400 });
      if (parameter !== '') expect(res.body.errors[0].parameter, url).toBe(parameter);
      else expect(res.body.detail, url).toContain('invalid cursor');
    }
    expect((await get('/v1/audit/events?tenant=%E0%A4%A')).body.errors[0].parameter).toBe('tenant');
    expect(await get('/v1/audit/%zz')).toMatchObject({
      status: 400,
      body: { detail: expect.stringContaining('not a valid url') },
    });
    const unknown = await get('/v1/audit/nothing');
    expect(unknown).toMatchObject({ status: 404, body: { status: 404 } });
  });

  it('answers 401 without a valid token and 403 for another tenant, and audits the refusal', async () => {
    const before = api.audited.length;
    const missing = await get('/v1/audit/events?tenant=acme', {});
    expect(missing).toMatchObject({ status: 401, body: { status: 401, title: 'Unauthorized' } });
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="meshgate-audit"');
    expect((await get('/v1/audit/events?tenant=acme', { authorization: `Basic ${ACME_TOKEN}` })).status).toBe(
      401,
    );
    expect((await get('/v1/audit/events?tenant=acme', bearer(`${ACME_TOKEN}x`))).status).toBe(401);
    const other = await get('/v1/audit/events?tenant=acme', bearer(GLOBEX_TOKEN));
    expect(other).toMatchObject({ status: 403, body: { detail: expect.stringContaining('tenant "acme"') } });
    expect((await get('/v1/audit/verify?tenant=globex')).status).toBe(403);
    expect((await get('/v1/audit/tail?tenant=globex')).status).toBe(403);
    expect(api.audited.slice(before).map((e) => [e.kind, 'outcome' in e ? e.outcome : undefined])).toEqual(
      Array.from({ length: 6 }, () => ['authentication', 'denied']),
    );
    const ok = await get('/v1/audit/events?tenant=acme');
    expect(ok.status).toBe(200);
    expect(api.audited.at(-1)).toMatchObject({
      kind: 'request-received',
      principal: expect.stringMatching(/^audit-token:[0-9a-f]{12}$/),
    });
    expect(JSON.stringify(api.audited)).not.toContain(ACME_TOKEN);
  });

  it('refuses reads with 503 while the trail cannot record them', async () => {
    api.admission.open = false;
    try {
      const res = await get('/v1/audit/events?tenant=acme');
      expect(res).toMatchObject({ status: 503, body: { status: 503 } });
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      api.admission.open = true;
    }
  });

  it('rejects malformed token configuration without echoing the token', () => {
    expect(() => parseApiTokens('acme')).toThrow('entry 1 must be tenant:token');
    expect(() => parseApiTokens('acme:short')).toThrow('entry 1: the token must be 16');
    expect(() => parseApiTokens('Bad.Tenant:0123456789abcdef0')).toThrow(/^entry 1 must/);
    expect(parseApiTokens(' acme:0123456789abcdef , ')).toHaveLength(1);
  });
});

describe('GET /v1/audit/verify', () => {
  it('answers 200 with the report, then 409 with the findings after tampering', async () => {
    const ok = await get('/v1/audit/verify?tenant=acme');
    expect(ok).toMatchObject({
      status: 200,
      body: { tenant: 'acme', ok: true, checked: 5, headSeq: 5, findings: [] },
    });
    expect(ok.body.publicKey).toContain('BEGIN PUBLIC KEY');

    const jsm = await jetstreamManager(nc);
    const third = (await api.archive.records('acme', 3, 1))[0]!;
    const stored = (await api.archive.getById(third.event.id))!;
    let streamSeq = 0;
    for (let s = 1; s < 100 && streamSeq === 0; s++) {
      const m = await jsm.streams.getMessage(iso.archive.stream, { seq: s }).catch(() => null);
      if (m?.string().includes(third.event.id)) streamSeq = s;
    }
    await jsm.streams.deleteMessage(iso.archive.stream, streamSeq);
    const changed = { ...stored, event: { ...stored.event, principal: 'mallory' } };
    await jetstream(nc).publish(`${iso.archive.subjectPrefix}.acme`, JSON.stringify(changed));

    const bad = await get('/v1/audit/verify?tenant=acme');
    expect(bad.status).toBe(409);
    expect(bad.type).toBe('application/problem+json; charset=utf-8');
    expect(bad.body).toMatchObject({
      status: 409,
      detail: 'the audit trail of tenant "acme" does not verify: 1 finding',
      ok: false,
      findings: [{ seq: 3, eventId: third.event.id, problem: 'changed' }],
    });
  });
});
