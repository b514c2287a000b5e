/**
 * The audit API's refusals and verification through `inject()`: problem details for bad and hostile query
 * strings (400), a missing, malformed, unknown or revoked API key (401 with a Bearer challenge), a key of
 * another tenant or without the auditor role (403), a trail that cannot record the read (503); reads
 * audited under the principal's name; the explicit opt-out MESHGATE_AUDIT_AUTH=none; verification
 * answering 200, then 409 with the findings after tampering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { generateApiKey } from '@meshgate/auth';
import { ConfigError } from '@meshgate/config';
import { loadConfig } from '../src/config';
import { apiUnderTest, type ApiUnderTest } from './api-fixture';
import { responseSent } from './events';
import { cleanup, isolate, type Isolated } from './nats-fixture';

let nc: NatsConnection;
let iso: Isolated;
let api: ApiUnderTest;

beforeAll(async () => {
  nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
  iso = isolate();
  api = await apiUnderTest(nc, iso);
  await api.archiveAll(Array.from({ length: 5 }, (_, n) => responseSent('acme', n)));
});
afterAll(async () => {
  await api.close();
  await cleanup(nc, iso);
  await nc.drain();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
async function get(url: string, headers: Record<string, string> = api.auditor('acme')) {
  const res = await api.app.inject({ method: 'GET', url, headers });
  return {
    status: res.statusCode,
    type: res.headers['content-type'],
    body: res.json(),
    headers: res.headers,
  };
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 1_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
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

  it('answers 401 with a Bearer challenge without a valid key, and audits the refusal', async () => {
    const before = api.audited.length;
    const missing = await get('/v1/audit/events?tenant=acme', {});
    expect(missing).toMatchObject({ status: 401, body: { status: 401, title: 'Unauthorized' } });
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="meshgate-audit"');
    const acmeKey = api.auditor('acme').authorization.slice('Bearer '.length);
    const refused: Array<[Record<string, string>, string]> = [
      [{ authorization: `Basic ${acmeKey}` }, 'the bearer credential is not a Meshgate API key'],
      [bearer(`${acmeKey}x`), 'the bearer credential is not a Meshgate API key'],
      [bearer(acmeKey.replace(/^mgk_./, 'mgk_\u0430')), 'the bearer credential is not a Meshgate API key'],
      [bearer('A'.repeat(65_536)), 'the bearer credential is not a Meshgate API key'],
      [bearer(generateApiKey().apiKey), 'the API key is not valid'],
      [bearer(`${acmeKey.slice(0, 21)}${generateApiKey().secret}`), 'the API key is not valid'],
    ];
    for (const [headers, detail] of refused) {
      const res = await get('/v1/audit/events?tenant=acme', headers);
      expect(res, detail).toMatchObject({ status: 401, body: { detail } });
      expect(res.headers['www-authenticate']).toContain(
        'Bearer realm="meshgate-audit", error="invalid_token"',
      );
    }
    expect(api.audited.slice(before).map((e) => [e.kind, 'outcome' in e ? e.outcome : undefined])).toEqual(
      Array.from({ length: 7 }, () => ['authentication', 'denied']),
    );
    expect(api.audited.slice(before).every((e) => e.principal === undefined)).toBe(true);
    expect(JSON.stringify(api.audited)).not.toContain(acmeKey);
  });

  it('refuses a revoked key once the revocation reaches the verifier', async () => {
    const issued = await api.keys.create({
      tenant: 'acme',
      principal: 'temp',
      kind: 'user',
      roles: ['auditor'],
    });
    const url = '/v1/audit/events?tenant=acme&limit=1';
    const status = async () => (await get(url, bearer(issued.apiKey))).status;
    await eventually(async () => (await status()) === 200);
    await api.keys.revoke(issued.record.keyId);
    await eventually(async () => (await status()) === 401);
    expect((await get(url, bearer(issued.apiKey))).body.detail).toBe('the API key was revoked');
  });

  it('answers 403 to another tenant and to keys without the auditor role; admins read their tenant', async () => {
    const before = api.audited.length;
    const other = await get('/v1/audit/events?tenant=acme', api.auditor('globex'));
    expect(other).toMatchObject({
      status: 403,
      body: { detail: 'principal "globex/auditor-globex" may not read the audit trail of tenant "acme"' },
    });
    expect(other.headers['www-authenticate']).toBeUndefined();
    expect((await get('/v1/audit/verify?tenant=globex')).status).toBe(403);
    expect((await get('/v1/audit/tail?tenant=globex')).status).toBe(403);
    const agent = await api.keys.create({
      tenant: 'acme',
      principal: 'bot',
      kind: 'agent',
      roles: ['agent'],
    });
    const admin = await api.keys.create({ tenant: 'acme', principal: 'ada', kind: 'user', roles: ['admin'] });
    const root = await api.keys.create({
      tenant: 'default',
      principal: 'root',
      kind: 'user',
      roles: ['platform-admin'],
    });
    await eventually(
      async () => (await get('/v1/audit/events?tenant=acme', bearer(root.apiKey))).status === 200,
    );
    expect((await get('/v1/audit/events?tenant=globex', bearer(root.apiKey))).status).toBe(200);
    await eventually(
      async () => (await get('/v1/audit/events?tenant=acme', bearer(admin.apiKey))).status === 200,
    );
    expect((await get('/v1/audit/events?tenant=globex', bearer(admin.apiKey))).status).toBe(403);
    await eventually(
      async () => (await get('/v1/audit/events?tenant=acme', bearer(agent.apiKey))).status === 403,
    );
    const denied = api.audited.slice(before).filter((e) => e.kind === 'authentication');
    expect(denied[0]).toMatchObject({
      outcome: 'denied',
      principal: 'globex/auditor-globex',
      tenant: 'acme',
    });
    expect(denied.at(-1)).toMatchObject({ outcome: 'denied', principal: 'acme/bot' });

    const ok = await get('/v1/audit/events?tenant=acme');
    expect(ok.status).toBe(200);
    expect(api.audited.at(-1)).toMatchObject({ kind: 'request-received', principal: 'acme/auditor-acme' });
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

  it('is secure by default: MESHGATE_AUDIT_AUTH=none must be asked for, and the old tokens are refused', () => {
    expect(loadConfig({}).api.auth.mode).toBe('api-key');
    expect(loadConfig({ MESHGATE_AUDIT_AUTH: 'none' }).api.auth.mode).toBe('none');
    expect(() => loadConfig({ MESHGATE_AUDIT_AUTH: 'off' })).toThrow(ConfigError);
    expect(() => loadConfig({ MESHGATE_AUDIT_API_TOKENS: 'acme:0123456789abcdef' })).toThrow(
      /MESHGATE_AUDIT_API_TOKENS: was replaced by API keys/,
    );
  });

  it('answers anyone with MESHGATE_AUDIT_AUTH=none, still auditing each read', async () => {
    const open = await apiUnderTest(nc, iso, { auth: 'none' });
    try {
      const res = await open.app.inject({ url: '/v1/audit/events?tenant=acme&limit=1' });
      expect(res.statusCode).toBe(200);
      expect(open.audited).toHaveLength(1);
      expect(open.audited[0]).toMatchObject({ kind: 'request-received', tenant: 'acme' });
      expect(open.audited[0]?.principal).toBeUndefined();
    } finally {
      await open.close();
    }
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
    await jetstream(nc).publish(
      `${iso.archive.subjectPrefix}.acme.${stored.event.id}`,
      JSON.stringify(changed),
    );

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
