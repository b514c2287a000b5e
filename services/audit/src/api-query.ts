/**
 * The query strings of the audit API, as zod schemas (the OpenAPI document is generated from them): the
 * filters every read shares, paging of `/v1/audit/events`, the export format. Strict: an unknown or
 * repeated parameter is a 400, never silently ignored, so a misspelt filter cannot widen a query.
 */
import { z } from 'zod';
import { AuditQuery } from '@meshgate/store';
import { HttpProblem } from './problem';

/** Largest page of `/v1/audit/events`. */
export const MAX_PAGE = 1_000;

/** The filters of every audit read: `tenant` is required, the others narrow the result. */
export const AuditFilters = AuditQuery.required({ tenant: true }).strict();
export type AuditFilters = z.infer<typeof AuditFilters>;

const Limit = z
  .string()
  .regex(/^\d{1,4}$/, `a whole number from 1 to ${MAX_PAGE}`)
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_PAGE));

/** `GET /v1/audit/events`: filters, page size (default 100) and the cursor of the previous page. */
export const EventsQuery = AuditFilters.extend({
  limit: Limit.optional(),
  cursor: z.string().min(1).max(64).optional(),
}).strict();
export type EventsQuery = z.infer<typeof EventsQuery>;

/** `GET /v1/audit/events/export`: filters and the format (JSON lines by default). */
export const ExportQuery = AuditFilters.extend({
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
}).strict();
export type ExportQuery = z.infer<typeof ExportQuery>;

/** `GET /v1/audit/verify`: the tenant whose chain is verified. */
export const TenantQuery = z.object({ tenant: AuditQuery.shape.tenant.unwrap() }).strict();
export type TenantQuery = z.infer<typeof TenantQuery>;

/** Parses a query string with `schema`; a 400 problem naming each bad parameter otherwise. */
export function parseQuery<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.slice(0, 20).map((issue) => ({
    parameter: issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 5).join(',') : issue.path.join('.'),
    detail: issue.message,
  }));
  const first = errors[0];
  throw new HttpProblem(
    400,
    first ? `invalid query parameter ${first.parameter || '(query)'}: ${first.detail}` : 'invalid query',
    { errors },
  );
}

const FiltersOnly = z.object(AuditFilters.shape);

/** The filters part of a parsed query (paging and format dropped), for the archive and the tail. */
export function filtersOf(query: AuditFilters): AuditFilters {
  return FiltersOnly.parse(query);
}
