/**
 * A stand-in for the audit API on 127.0.0.1:0 (node:http, in memory), answering as the real one does:
 * pages of records with an opaque cursor, the verification report (200, or 409 problem details), the tail
 * as SSE, bearer API key checks with 401/403 problem details. It records every request.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditRecord, AuditVerifyReport } from '../src/api-client';

export interface FakeAudit {
  url: string;
  records: AuditRecord[];
  report: AuditVerifyReport;
  requests: Array<{ url: string; authorization: string | undefined }>;
  /** Sends a record to every open tail. */
  emit(record: AuditRecord): void;
  /** Resolves once `n` tails are open. */
  tails(n: number): Promise<void>;
  close(): Promise<void>;
}

/** A record of `tenant` at `seq`. */
export function record(tenant: string, seq: number, extra: Partial<AuditRecord['event']> = {}): AuditRecord {
  return {
    v: 1,
    event: {
      v: 1,
      id: randomUUID(),
      time: new Date(Date.UTC(2026, 10, 24, 9, 0, seq)).toISOString(),
      tenant,
      traceId: seq.toString(16).padStart(32, '0'),
      service: 'ingress',
      instance: 'ingress-1',
      kind: 'response-sent',
      latencyMs: 3,
      sizeBytes: 10,
      outcome: 'ok',
      ...extra,
    } as AuditRecord['event'],
    link: { seq, prevHash: '0'.repeat(64), hash: seq.toString(16).padStart(64, 'a') },
  };
}

/** Starts the fake; with `token` set, requests must carry it as a bearer API key of an auditor of "acme". */
export async function startFakeAudit(token?: string): Promise<FakeAudit> {
  const records: AuditRecord[] = [];
  const requests: FakeAudit['requests'] = [];
  const open = new Set<ServerResponse>();
  const fake = {
    report: {
      tenant: 'acme',
      ok: true,
      checked: 3,
      headSeq: 3,
      checkpoints: 1,
      findings: [],
      publicKey: 'PEM',
    } as AuditVerifyReport,
  };
  const problem = (res: ServerResponse, status: number, detail: string, extra: object = {}) =>
    res
      .writeHead(status, { 'content-type': 'application/problem+json' })
      .end(JSON.stringify({ ...extra, type: 'about:blank', title: 'Error', status, detail }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push({ url: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    const tenant = url.searchParams.get('tenant');
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`)
      return problem(res, 401, 'the API key is not valid');
    if (token !== undefined && tenant !== 'acme')
      return problem(res, 403, `principal "acme/sec" may not read the audit trail of tenant "${tenant}"`);
    if (url.pathname === '/v1/audit/events') {
      const matching = records.filter(
        (r) => r.event.tenant === tenant && (url.searchParams.get('kind') ?? r.event.kind) === r.event.kind,
      );
      const start = Number(url.searchParams.get('cursor') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '100');
      const events = matching.slice(start, start + limit);
      const next = start + limit < matching.length ? String(start + limit) : null;
      return res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ events, nextCursor: next }));
    }
    if (url.pathname === '/v1/audit/verify') {
      if (fake.report.ok)
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fake.report));
      return problem(res, 409, 'does not verify', fake.report);
    }
    if (url.pathname === '/v1/audit/tail') {
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': open\n\n');
      open.add(res);
      res.once('close', () => open.delete(res));
      return;
    }
    return problem(res, 404, 'no route');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    get report() {
      return fake.report;
    },
    set report(r) {
      fake.report = r;
    },
    requests,
    emit: (r) => {
      for (const res of open) res.write(`id: ${r.link.seq}\nevent: audit\ndata: ${JSON.stringify(r)}\n\n`);
    },
    async tails(n) {
      for (let i = 0; i < 200 && open.size < n; i++) await new Promise((r) => setTimeout(r, 10));
      if (open.size < n) throw new Error(`${n} tails did not open`);
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of open) res.end();
        server.close(() => resolve());
      }),
  };
}
