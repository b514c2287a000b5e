/**
 * `meshgate policies list|get|put|validate|delete` and `meshgate limits get|put`: Cedar policy sets and the
 * limits (a LimitsConfig) through the policy service's admin API and the shared client. `policies put` and
 * `validate` read the set from a file (`--file`); `put` validates it first, so that a bad set is shown error
 * by error as `<file>:<line>:<column>: <message>` and nothing is sent. `limits put <file.json>` checks the
 * file against LimitsConfig first the same way (`<file>: <path>: <message>`). Arguments are parsed here
 * (every mistake a UsageError); results are printed for people or, with `--json`, for scripts.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { LimitsConfig, PolicySetName } from '@meshgate/contracts';
import { ApiClient } from '../api-client';
import { UsageError } from '../args';
import type { Io } from '../io';

/** Where the policy service is reached without `--policy-url` / MESHGATE_POLICY_URL. */
export const DefaultPolicyUrl = 'http://127.0.0.1:8083';

// The answers of the policy admin API (services/policy src/api-answers.ts), as far as the CLI reads them.
const PolicyError = z.object({
  message: z.string(),
  line: z.number().optional(),
  column: z.number().optional(),
  policyId: z.string().optional(),
});
const PolicySetView = z.object({
  name: z.string(),
  sha256: z.string(),
  source: z.string(),
  updatedAt: z.string(),
  policies: z.number().nullable(),
  revision: z.number(),
});
const PolicySetDocument = PolicySetView.extend({ text: z.string() });
const PolicySetList = z.object({ sets: z.array(PolicySetView) });
const PolicySetSaved = PolicySetView.extend({ status: z.enum(['created', 'updated', 'unchanged']) });
const PolicySetValidation = z.object({
  valid: z.boolean(),
  policies: z.array(z.string()),
  errors: z.array(PolicyError),
});
const PolicySetDeleted = z.object({ name: z.string(), deleted: z.literal(true) });
const LimitsSaved = z.object({
  status: z.enum(['created', 'updated', 'unchanged']),
  sha256: z.string(),
  revision: z.number(),
  rules: z.number(),
});

interface PoliciesTarget {
  policyUrl: string;
  apiKey: string;
  json: boolean;
}

/** One parsed `meshgate policies` invocation. */
export type PoliciesCommand =
  | (PoliciesTarget & { kind: 'policies-list' })
  | (PoliciesTarget & { kind: 'policies-get' | 'policies-delete'; name: PolicySetName })
  | (PoliciesTarget & { kind: 'policies-put' | 'policies-validate'; name: PolicySetName; file: string });

/** One parsed `meshgate limits` invocation. */
export type LimitsCommand =
  (PoliciesTarget & { kind: 'limits-get' }) | (PoliciesTarget & { kind: 'limits-put'; file: string });

const Subcommands = ['list', 'get', 'put', 'validate', 'delete'] as const;
const Common = {
  'policy-url': { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const WithFile = { ...Common, file: { type: 'string' } } as const;
type Values = Record<string, string | boolean | undefined>;

/** Parses `meshgate policies <argv>`; throws UsageError on any mistake. */
export function parsePoliciesCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): PoliciesCommand {
  const [sub, ...rest] = argv;
  const known = Subcommands.find((s) => s === sub);
  if (known === undefined)
    throw new UsageError(
      sub === undefined
        ? '"policies" needs a subcommand: list, get, put, validate or delete'
        : `unknown subcommand "policies ${sub}"`,
    );
  const withFile = known === 'put' || known === 'validate';
  const { values, args } = parseOptions(rest, withFile ? WithFile : Common);
  const wanted = known === 'list' ? 0 : 1;
  if (args.length > wanted) throw new UsageError(`unexpected argument "${args[wanted]}"`);
  if (args.length < wanted)
    throw new UsageError(`"policies ${known}" needs the set name (platform or a tenant)`);
  const target = policiesTarget(values, env, 'policies');
  if (known === 'list') return { kind: 'policies-list', ...target };
  const name = setName(args[0]);
  if (!withFile) return { kind: known === 'get' ? 'policies-get' : 'policies-delete', ...target, name };
  const file = values['file'];
  if (typeof file !== 'string' || file === '')
    throw new UsageError(`"policies ${known}" needs --file <path.cedar>`);
  return { kind: known === 'put' ? 'policies-put' : 'policies-validate', ...target, name, file };
}

/** Parses `meshgate limits <argv>`; throws UsageError on any mistake. */
export function parseLimitsCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): LimitsCommand {
  const [sub, ...rest] = argv;
  if (sub !== 'get' && sub !== 'put')
    throw new UsageError(
      sub === undefined ? '"limits" needs a subcommand: get or put' : `unknown subcommand "limits ${sub}"`,
    );
  const { values, args } = parseOptions(rest, Common);
  const wanted = sub === 'put' ? 1 : 0;
  if (args.length > wanted) throw new UsageError(`unexpected argument "${args[wanted]}"`);
  const target = policiesTarget(values, env, 'limits');
  if (sub === 'get') return { kind: 'limits-get', ...target };
  const file = args[0];
  if (file === undefined || file === '')
    throw new UsageError('"limits put" needs the file: limits put <file.json>');
  return { kind: 'limits-put', ...target, file };
}

/** Runs one `policies` command; returns the exit code. API failures are thrown to the caller. */
export async function runPolicies(cmd: PoliciesCommand, io: Io, cwd: string): Promise<number> {
  const api = new ApiClient({ baseUrl: cmd.policyUrl, apiKey: cmd.apiKey });
  const path = (name: string) => `/admin/v1/policies/${name}`;
  const print = (value: unknown, text: string) => io.out(cmd.json ? JSON.stringify(value, null, 2) : text);
  switch (cmd.kind) {
    case 'policies-list': {
      const list = await api.call('GET', '/admin/v1/policies', PolicySetList);
      print(list, setsTable(list.sets));
      return 0;
    }
    case 'policies-get': {
      const doc = await api.call('GET', path(cmd.name), PolicySetDocument);
      print(doc, doc.text.replace(/\n$/, ''));
      return 0;
    }
    case 'policies-delete': {
      print(await api.call('DELETE', path(cmd.name), PolicySetDeleted), `deleted policy set ${cmd.name}`);
      return 0;
    }
    case 'policies-validate':
    case 'policies-put': {
      const text = await readTextFile(resolve(cwd, cmd.file), io);
      if (text === null) return 1;
      const verdict = await api.call('POST', `${path(cmd.name)}/validate`, PolicySetValidation, { text });
      if (!verdict.valid) {
        if (cmd.json) io.out(JSON.stringify(verdict, null, 2));
        for (const e of verdict.errors) io.err(errorLine(cmd.file, e));
        io.err(`policy set ${cmd.name} is invalid (${verdict.errors.length} error(s)); nothing was stored`);
        return 1;
      }
      if (cmd.kind === 'policies-validate') {
        print(
          verdict,
          `policy set ${cmd.name} is valid: ${verdict.policies.length} policies (${verdict.policies.join(', ')})`,
        );
        return 0;
      }
      const saved = await api.call('PUT', path(cmd.name), PolicySetSaved, { text });
      print(
        saved,
        saved.status === 'unchanged'
          ? `policy set ${cmd.name} is unchanged (sha256 ${saved.sha256.slice(0, 12)})`
          : `${saved.status} policy set ${cmd.name}: ${saved.policies ?? '?'} policies, sha256 ${saved.sha256.slice(0, 12)}, revision ${saved.revision}`,
      );
      return 0;
    }
  }
}

/** Runs one `limits` command; returns the exit code. API failures are thrown to the caller. */
export async function runLimits(cmd: LimitsCommand, io: Io, cwd: string): Promise<number> {
  const api = new ApiClient({ baseUrl: cmd.policyUrl, apiKey: cmd.apiKey });
  if (cmd.kind === 'limits-get') {
    const limits = await api.call('GET', '/admin/v1/limits', LimitsConfig);
    io.out(cmd.json ? JSON.stringify(limits, null, 2) : limitsTable(limits));
    return 0;
  }
  const text = await readTextFile(resolve(cwd, cmd.file), io);
  if (text === null) return 1;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    io.err(`${cmd.file}: not JSON: ${(err as Error).message}`);
    io.err('the limits are invalid; nothing was stored');
    return 1;
  }
  const checked = LimitsConfig.safeParse(json);
  if (!checked.success) {
    for (const issue of checked.error.issues)
      io.err(
        `${cmd.file}: ${issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : ''}${issue.message}`,
      );
    io.err(`the limits are invalid (${checked.error.issues.length} issue(s)); nothing was stored`);
    return 1;
  }
  const saved = await api.call('PUT', '/admin/v1/limits', LimitsSaved, json);
  io.out(
    cmd.json
      ? JSON.stringify(saved, null, 2)
      : saved.status === 'unchanged'
        ? `the limits are unchanged (sha256 ${saved.sha256.slice(0, 12)})`
        : `${saved.status} the limits: ${saved.rules} rule(s), sha256 ${saved.sha256.slice(0, 12)}, revision ${saved.revision}`,
  );
  return 0;
}

/** A fixed-width table of policy sets. */
export function setsTable(sets: readonly z.infer<typeof PolicySetView>[]): string {
  if (sets.length === 0) return 'no policy sets you may manage';
  return table([
    ['NAME', 'POLICIES', 'SHA256', 'UPDATED', 'SOURCE'],
    ...sets.map((s) => [s.name, String(s.policies ?? '?'), s.sha256.slice(0, 12), s.updatedAt, s.source]),
  ]);
}

/** A fixed-width table of limit rules: what each matches, what it counts per, and its bounds. */
export function limitsTable(limits: LimitsConfig): string {
  if (limits.rules.length === 0) return 'no limits: nothing is limited';
  const or = (value: number | undefined) => (value === undefined ? '-' : String(value));
  return table([
    ['ID', 'MATCH', 'PER', 'REQUESTS', 'CONCURRENT', 'DAILY'],
    ...limits.rules.map((r) => [
      r.id,
      Object.entries(r.match)
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '*',
      r.per.join(',') || '-',
      r.requests ? `${r.requests.limit}/${r.requests.windowS}s` : '-',
      or(r.concurrent),
      or(r.dailyQuota),
    ]),
  ]);
}

function table(all: readonly string[][]): string {
  const widths = all[0]!.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function errorLine(file: string, e: z.infer<typeof PolicyError>): string {
  const where = e.line !== undefined ? `${file}:${e.line}:${e.column ?? 1}` : file;
  return `${where}: ${e.message}${e.policyId !== undefined ? ` [${e.policyId}]` : ''}`;
}

/** The UTF-8 text of `path`, or null after telling why it cannot be read. */
async function readTextFile(path: string, io: Io): Promise<string | null> {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.err(`meshgate: cannot read ${path}: ${code ?? 'it is not UTF-8 text'}`);
    return null;
  }
}

function setName(raw: string | undefined): PolicySetName {
  const parsed = PolicySetName.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(
      `invalid policy set name "${raw}": "platform" or a tenant id (lower-case letters, digits and "-")`,
    );
  return parsed.data;
}

/** node:util parseArgs in strict mode; its errors become UsageErrors. */
function parseOptions(argv: readonly string[], options: ParseArgsConfig['options']) {
  try {
    const parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: parsed.values as Values, args: parsed.positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function policiesTarget(
  values: Values,
  env: Readonly<Record<string, string | undefined>>,
  command: 'policies' | 'limits',
): PoliciesTarget {
  const flag = values['policy-url'] as string | undefined;
  const raw = flag ?? env['MESHGATE_POLICY_URL'] ?? DefaultPolicyUrl;
  if (!z.url({ protocol: /^https?$/ }).safeParse(raw).success)
    throw new UsageError(
      `${flag === undefined ? 'MESHGATE_POLICY_URL' : '--policy-url'} must be an http(s) URL, got "${raw}"`,
    );
  const apiKey = (values['api-key'] as string | undefined) ?? env['MESHGATE_API_KEY'] ?? '';
  if (apiKey === '')
    throw new UsageError(
      `"${command}" needs an admin API key: --api-key or MESHGATE_API_KEY ("meshgate start" prints one on its first run)`,
    );
  return { policyUrl: raw.replace(/\/+$/, ''), apiKey, json: values['json'] === true };
}
