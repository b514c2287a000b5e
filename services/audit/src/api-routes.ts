/**
 * The audit API's routes (ADR 003 "Reading"): query with cursor pagination, export as JSON lines or CSV,
 * live tail over SSE, chain verification, the public key, and the OpenAPI document. Every tenant read
 * passes `admitRead` (authorised, itself audited) after its query string is validated.
 */
import { Readable } from 'node:stream';
import type { KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AuditArchive, AuditPage } from '@meshgate/store';
import { admitRead, type AccessDeps } from './api-access';
import type { EventsPage, PublicKeyAnswer, VerifyAnswer } from './api-answers';
import {
  AuditFilters,
  EventsQuery,
  ExportQuery,
  filtersOf,
  MAX_PAGE,
  parseQuery,
  TenantQuery,
} from './api-query';
import type { OpenFeed } from './archive-feed';
import { CSV_HEADER, csvLine } from './audit-csv';
import { openApiDocument } from './openapi';
import { HttpProblem } from './problem';
import { streamTail, type TailStream } from './sse-tail';
import { verifyTenant } from './verify';

export interface AuditApiDeps extends AccessDeps {
  archive: AuditArchive;
  key: { publicKey: KeyObject; publicKeyPem: string; keyId: string };
  openFeed: OpenFeed;
  /** Seconds between SSE keep-alive comments, and the most tails open at once (beyond: 503). */
  tail: { keepAliveMs: number; maxTails: number };
  version: string;
  /** The archive's retention in ms (0: forever): verification does not count expired records as removed. */
  retentionMs?: number;
}

const DEFAULT_PAGE = 100;

/** Registers the `/v1/audit/*` routes and `/openapi.json` on `app`. */
export function registerAuditApi(app: FastifyInstance, deps: AuditApiDeps): void {
  const tails = new Set<TailStream>();
  app.addHook('preClose', async () => {
    await Promise.all([...tails].map((t) => t.stop()));
  });
  const document = openApiDocument(deps.version);
  app.get('/openapi.json', async () => document);

  app.get('/v1/audit/events', async (request): Promise<EventsPage> => {
    const q = parseQuery(EventsQuery, request.query);
    admitRead(deps, request, q.tenant, '/v1/audit/events');
    const page = await deps.archive.query(filtersOf(q), q.cursor ?? null, q.limit ?? DEFAULT_PAGE);
    return { events: page.records, nextCursor: page.cursor };
  });

  app.get('/v1/audit/events/export', async (request, reply) => {
    const q = parseQuery(ExportQuery, request.query);
    admitRead(deps, request, q.tenant, '/v1/audit/events/export');
    const filters = filtersOf(q);
    // The first page is read before answering, so an unreachable archive is still a 503 problem.
    const first = await deps.archive.query(filters, null, MAX_PAGE);
    const archive = deps.archive;
    async function* lines(): AsyncGenerator<string> {
      if (q.format === 'csv') yield CSV_HEADER;
      let page: AuditPage = first;
      for (;;) {
        for (const record of page.records)
          yield q.format === 'csv' ? csvLine(record) : `${JSON.stringify(record)}\n`;
        if (page.cursor === null) return;
        page = await archive.query(filters, page.cursor, MAX_PAGE);
      }
    }
    return reply
      .type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${q.tenant}.${q.format}"`)
      .send(Readable.from(lines()));
  });

  app.get('/v1/audit/tail', async (request, reply) => {
    const filters = parseQuery(AuditFilters, request.query);
    const last = request.headers['last-event-id'];
    if (last !== undefined && (typeof last !== 'string' || !/^\d{1,15}$/.test(last)))
      throw new HttpProblem(400, 'Last-Event-ID must be the id of an event of this tail (a whole number)');
    admitRead(deps, request, filters.tenant, '/v1/audit/tail');
    if (tails.size >= deps.tail.maxTails)
      throw new HttpProblem(
        503,
        `${deps.tail.maxTails} tails are open; retry later`,
        {},
        { 'retry-after': '10' },
      );
    const feed = await deps.openFeed(filters.tenant, last === undefined ? null : Number(last));
    reply.hijack();
    const tail = streamTail(reply.raw, feed, filters, {
      keepAliveMs: deps.tail.keepAliveMs,
      log: request.log,
    });
    tails.add(tail);
    void tail.done.finally(() => tails.delete(tail));
    return reply;
  });

  app.get('/v1/audit/verify', async (request): Promise<VerifyAnswer> => {
    const { tenant } = parseQuery(TenantQuery, request.query);
    admitRead(deps, request, tenant, '/v1/audit/verify');
    const answer = {
      ...(await verifyTenant(deps.archive, tenant, deps.key.publicKey, {
        retentionMs: deps.retentionMs ?? 0,
      })),
      publicKey: deps.key.publicKeyPem,
    };
    if (!answer.ok) {
      const n = answer.findings.length;
      throw new HttpProblem(
        409,
        `the audit trail of tenant "${tenant}" does not verify: ${n} finding${n === 1 ? '' : 's'}`,
        answer,
      );
    }
    return answer;
  });

  app.get('/v1/audit/public-key', async (): Promise<PublicKeyAnswer> => ({
    algorithm: 'Ed25519',
    keyId: deps.key.keyId,
    publicKey: deps.key.publicKeyPem,
  }));
}
