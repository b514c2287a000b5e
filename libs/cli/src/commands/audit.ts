/**
 * `meshgate audit query|tail|verify`: the audit API through the shared client. Arguments are parsed here
 * into an AuditCommand (every mistake a UsageError); results are printed for people (one line per event,
 * a verification summary with its findings) or, with `--json`, for scripts. `verify` exits 1 when the
 * chain does not verify; `tail` runs until the server ends the stream or the signal aborts.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AuditKind, AuditOutcome, TenantId } from '@meshgate/contracts';
import { ApiClient, type AuditFilters, type AuditRecord, type AuditVerifyReport } from '../api-client';
import { UsageError } from '../args';
import type { Io } from '../io';

/** Where the audit API is reached without `--audit-url` / MESHGATE_AUDIT_URL (the audit service's default). */
export const DefaultAuditUrl = 'http://127.0.0.1:8082';

interface AuditTarget {
  auditUrl: string;
  apiKey?: string;
}

/** One parsed `meshgate audit` invocation. */
export type AuditCommand =
  | (AuditTarget & { kind: 'audit-query'; filters: AuditFilters; limit: number; json: boolean })
  | (AuditTarget & { kind: 'audit-tail'; filters: AuditFilters; json: boolean })
  | (AuditTarget & { kind: 'audit-verify'; tenant: string; json: boolean });

const Filter = {
  tenant: TenantId,
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  principal: z.string().max(256),
  server: z.string().max(128),
  target: z.string().max(1024),
  kind: AuditKind,
  outcome: AuditOutcome,
  'trace-id': z.string().regex(/^[0-9a-f]{32}$/, '32 lower-case hex digits'),
} as const;
const Flags = {
  'audit-url': { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
  ...Object.fromEntries(Object.keys(Filter).map((name) => [name, { type: 'string' }])),
} as const;

/** Parses `meshgate audit <argv>`; throws UsageError on any mistake. */
export function parseAuditCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): AuditCommand {
  const [sub, ...rest] = argv;
  if (sub !== 'query' && sub !== 'tail' && sub !== 'verify') {
    throw new UsageError(
      sub === undefined
        ? '"audit" needs a subcommand: query, tail or verify'
        : `unknown subcommand "audit ${sub}"`,
    );
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = sub === 'query' ? { ...Flags, limit: { type: 'string' } } : Flags;
    ({ values } = parseArgs({
      args: [...rest],
      options: options as never,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const target = auditTarget(values, env);
  const json = values['json'] === true;
  const filters = auditFilters(values);
  if (sub === 'verify') {
    const extra = Object.keys(filters).find((key) => key !== 'tenant');
    if (extra !== undefined) throw new UsageError(`"audit verify" takes only --tenant, not --${extra}`);
    return { kind: 'audit-verify', ...target, tenant: filters.tenant, json };
  }
  if (sub === 'tail') return { kind: 'audit-tail', ...target, filters, json };
  const limit = values['limit'] === undefined ? '100' : String(values['limit']);
  if (!/^\d{1,7}$/.test(limit) || Number(limit) < 1)
    throw new UsageError(`--limit must be a whole number above 0, got "${limit}"`);
  return { kind: 'audit-query', ...target, filters, limit: Number(limit), json };
}

function auditFilters(values: Record<string, string | boolean | undefined>): AuditFilters {
  if (values['tenant'] === undefined) throw new UsageError('--tenant is required');
  const filters: Record<string, string> = {};
  for (const [flag, schema] of Object.entries(Filter)) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const parsed = (schema as z.ZodType<string>).safeParse(raw);
    if (!parsed.success)
      throw new UsageError(`invalid --${flag} "${String(raw)}": ${parsed.error.issues[0]?.message}`);
    filters[flag === 'trace-id' ? 'traceId' : flag] = parsed.data;
  }
  return filters as unknown as AuditFilters;
}

function auditTarget(
  values: Record<string, string | boolean | undefined>,
  env: Readonly<Record<string, string | undefined>>,
): AuditTarget {
  const flag = values['audit-url'] as string | undefined;
  const raw = flag ?? env['MESHGATE_AUDIT_URL'] ?? DefaultAuditUrl;
  if (!z.url({ protocol: /^https?$/ }).safeParse(raw).success) {
    throw new UsageError(
      `${flag === undefined ? 'MESHGATE_AUDIT_URL' : '--audit-url'} must be an http(s) URL, got "${raw}"`,
    );
  }
  const apiKey = (values['api-key'] as string | undefined) ?? env['MESHGATE_API_KEY'];
  return { auditUrl: raw.replace(/\/+$/, ''), ...(apiKey !== undefined && apiKey !== '' ? { apiKey } : {}) };
}

/** Runs one `audit` command; returns the exit code. API failures are thrown to the caller. */
export async function runAudit(cmd: AuditCommand, io: Io, signal?: AbortSignal): Promise<number> {
  const api = new ApiClient({
    baseUrl: cmd.auditUrl,
    ...(cmd.apiKey !== undefined ? { apiKey: cmd.apiKey } : {}),
  });
  switch (cmd.kind) {
    case 'audit-query': {
      const records: AuditRecord[] = [];
      let cursor: string | null = null;
      do {
        const page = await api.audit.query(cmd.filters, {
          ...(cursor !== null ? { cursor } : {}),
          limit: Math.min(1_000, cmd.limit - records.length),
        });
        records.push(...page.events);
        cursor = page.nextCursor;
      } while (cursor !== null && records.length < cmd.limit);
      if (cmd.json) io.out(JSON.stringify(records, null, 2));
      else io.out(records.length === 0 ? 'no matching events' : records.map(eventLine).join('\n'));
      if (cursor !== null) io.err(`more events match: raise --limit (${cmd.limit}) or narrow the filters`);
      return 0;
    }
    case 'audit-tail':
      await api.audit.tail(cmd.filters, (r) => io.out(cmd.json ? JSON.stringify(r) : eventLine(r)), signal);
      return 0;
    case 'audit-verify': {
      const report = await api.audit.verify(cmd.tenant);
      io.out(cmd.json ? JSON.stringify(report, null, 2) : verifyText(report));
      return report.ok ? 0 : 1;
    }
  }
}

/** One event for people: seq, time, kind, principal, server/target, outcome, trace id. */
export function eventLine({ event: e, link }: AuditRecord): string {
  const outcome = 'outcome' in e ? e.outcome : 'effect' in e ? e.effect : '';
  const where = [e.server, e.target].filter((part) => part !== undefined).join('/');
  return [
    String(link.seq).padStart(6),
    e.time,
    e.kind.padEnd(18),
    e.principal ?? '-',
    where || '-',
    outcome || '-',
    e.traceId,
  ].join('  ');
}

/** The verification summary and one line per finding. */
export function verifyText(r: AuditVerifyReport): string {
  const summary = `tenant "${r.tenant}": ${r.checked} records checked up to seq ${r.headSeq}, ${r.checkpoints} signed checkpoints`;
  if (r.ok) return `${summary}: the chain verifies`;
  const findings = r.findings.map(
    (f) => `  seq ${f.seq}: ${f.problem}${f.eventId ? ` (event ${f.eventId})` : ''}`,
  );
  return [`${summary}: ${r.findings.length} finding(s), the chain does NOT verify`, ...findings].join('\n');
}
