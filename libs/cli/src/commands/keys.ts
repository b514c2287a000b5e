/**
 * `meshgate keys create|list|rotate|revoke`: API keys through ingress's admin API and the shared client.
 * Arguments are parsed here into a KeysCommand (every mistake a UsageError, including a missing admin key);
 * results are printed for people (a key's text once, with a warning to keep it; a table of keys) or, with
 * `--json`, for scripts.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  ApiKeyId,
  CreateApiKeyRequest,
  RotateApiKeyRequest,
  TenantId,
  principalRef,
  type ApiKeyView,
  type IssuedApiKey,
} from '@meshgate/contracts';
import { keyStatus } from '@meshgate/auth';
import { ApiClient } from '../api-client';
import { UsageError } from '../args';
import type { Io } from '../io';

/** Where ingress (and its admin API) is reached without `--ingress-url` / MESHGATE_INGRESS_URL. */
export const DefaultIngressUrl = 'http://127.0.0.1:8080';

export interface KeysTarget {
  ingressUrl: string;
  apiKey: string;
  json: boolean;
}

/** One parsed `meshgate keys` invocation. */
export type KeysCommand =
  | (KeysTarget & { kind: 'keys-create'; request: CreateApiKeyRequest })
  | (KeysTarget & { kind: 'keys-list'; tenant?: string })
  | (KeysTarget & { kind: 'keys-rotate'; keyId: string; options: RotateApiKeyRequest })
  | (KeysTarget & { kind: 'keys-revoke'; keyId: string });

const Common = {
  'ingress-url': { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
} as const;
const Options = {
  create: {
    ...Common,
    tenant: { type: 'string' },
    principal: { type: 'string' },
    kind: { type: 'string' },
    role: { type: 'string', multiple: true },
    group: { type: 'string', multiple: true },
    'expires-in-days': { type: 'string' },
    description: { type: 'string' },
  },
  list: { ...Common, tenant: { type: 'string' } },
  rotate: { ...Common, 'grace-seconds': { type: 'string' }, 'expires-in-days': { type: 'string' } },
  revoke: Common,
} as const;

/** The flag that sets each field of a request, for error messages. */
const FlagOf: Record<string, string> = {
  tenant: '--tenant',
  principal: '--principal',
  kind: '--kind',
  roles: '--role',
  groups: '--group',
  expiresInDays: '--expires-in-days',
  description: '--description',
  graceSeconds: '--grace-seconds',
};

type Values = Record<string, string | string[] | boolean | undefined>;

/** Parses `meshgate keys <argv>`; throws UsageError on any mistake. */
export function parseKeysCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): KeysCommand {
  const [sub, ...rest] = argv;
  if (sub !== 'create' && sub !== 'list' && sub !== 'rotate' && sub !== 'revoke')
    throw new UsageError(
      sub === undefined
        ? '"keys" needs a subcommand: create, list, rotate or revoke'
        : `unknown subcommand "keys ${sub}"`,
    );
  const positionals = sub === 'rotate' || sub === 'revoke' ? 1 : 0;
  let values: Values;
  let args: string[];
  try {
    ({ values, positionals: args } = parseArgs({
      args: [...rest],
      options: Options[sub],
      strict: true,
      allowPositionals: true,
    }) as { values: Values; positionals: string[] });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (args.length > positionals) throw new UsageError(`unexpected argument "${args[positionals]}"`);
  if (args.length < positionals) throw new UsageError(`"keys ${sub}" needs the key id`);
  const target = keysTarget(values, env);
  switch (sub) {
    case 'create':
      return { kind: 'keys-create', ...target, request: createRequest(values) };
    case 'list': {
      const tenant = values['tenant'] as string | undefined;
      const valid = tenant === undefined ? null : TenantId.safeParse(tenant);
      if (valid && !valid.success)
        throw new UsageError(`invalid --tenant "${tenant}": ${valid.error.issues[0]?.message}`);
      return { kind: 'keys-list', ...target, ...(tenant !== undefined ? { tenant } : {}) };
    }
    case 'rotate': {
      const options = checked(RotateApiKeyRequest, {
        ...numberFlag(values, 'grace-seconds', 'graceSeconds'),
        ...numberFlag(values, 'expires-in-days', 'expiresInDays'),
      });
      return { kind: 'keys-rotate', ...target, keyId: keyId(args[0]), options };
    }
    case 'revoke':
      return { kind: 'keys-revoke', ...target, keyId: keyId(args[0]) };
  }
}

function createRequest(values: Values): CreateApiKeyRequest {
  for (const flag of ['tenant', 'principal', 'role'] as const)
    if (values[flag] === undefined) throw new UsageError(`"keys create" needs --${flag}`);
  return checked(CreateApiKeyRequest, {
    tenant: values['tenant'],
    principal: values['principal'],
    kind: values['kind'] ?? 'user',
    roles: values['role'],
    groups: values['group'] ?? [],
    ...numberFlag(values, 'expires-in-days', 'expiresInDays'),
    ...(values['description'] !== undefined ? { description: values['description'] } : {}),
  });
}

/** A whole-number flag as a request field; anything else is a usage error. */
function numberFlag(values: Values, flag: string, field: string): Record<string, number> {
  const raw = values[flag];
  if (raw === undefined) return {};
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw))
    throw new UsageError(`--${flag} must be a whole number, got "${String(raw)}"`);
  return { [field]: Number(raw) };
}

function checked<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = String(issue?.path[0] ?? '');
  throw new UsageError(`invalid ${FlagOf[field] ?? (field || 'arguments')}: ${issue?.message ?? 'rejected'}`);
}

function keyId(raw: string | undefined): string {
  if (!ApiKeyId.safeParse(raw).success)
    throw new UsageError(
      `invalid key id "${raw}": 16 lower-case hex digits, as "meshgate keys list" shows them`,
    );
  return raw!;
}

function keysTarget(values: Values, env: Readonly<Record<string, string | undefined>>): KeysTarget {
  return ingressTarget(
    values,
    env,
    '"keys" needs an admin API key: --api-key or MESHGATE_API_KEY ("meshgate start" prints one on its first run)',
  );
}

/**
 * Where a command of ingress's admin APIs goes and with which key: `--ingress-url`, MESHGATE_INGRESS_URL or
 * the default, and `--api-key` or MESHGATE_API_KEY; `missingKey` is the usage error without a key.
 */
export function ingressTarget(
  values: Values,
  env: Readonly<Record<string, string | undefined>>,
  missingKey: string,
): KeysTarget {
  const flag = values['ingress-url'] as string | undefined;
  const raw = flag ?? env['MESHGATE_INGRESS_URL'] ?? DefaultIngressUrl;
  if (!z.url({ protocol: /^https?$/ }).safeParse(raw).success)
    throw new UsageError(
      `${flag === undefined ? 'MESHGATE_INGRESS_URL' : '--ingress-url'} must be an http(s) URL, got "${raw}"`,
    );
  const apiKey = (values['api-key'] as string | undefined) ?? env['MESHGATE_API_KEY'] ?? '';
  if (apiKey === '') throw new UsageError(missingKey);
  return { ingressUrl: raw.replace(/\/+$/, ''), apiKey, json: values['json'] === true };
}

/** Runs one `keys` command; returns the exit code. API failures are thrown to the caller. */
export async function runKeys(cmd: KeysCommand, io: Io): Promise<number> {
  const api = new ApiClient({ baseUrl: cmd.ingressUrl, apiKey: cmd.apiKey });
  switch (cmd.kind) {
    case 'keys-create': {
      const issued = await api.keys.create(cmd.request);
      io.out(cmd.json ? JSON.stringify(issued, null, 2) : issuedText(issued));
      return 0;
    }
    case 'keys-list': {
      const list = await api.keys.list(cmd.tenant);
      io.out(cmd.json ? JSON.stringify(list, null, 2) : keysTable(list.keys, list.tenant, Date.now()));
      return 0;
    }
    case 'keys-rotate': {
      const issued = await api.keys.rotate(cmd.keyId, cmd.options);
      io.out(cmd.json ? JSON.stringify(issued, null, 2) : issuedText(issued));
      return 0;
    }
    case 'keys-revoke': {
      const { key } = await api.keys.revoke(cmd.keyId);
      io.out(
        cmd.json
          ? JSON.stringify(key, null, 2)
          : `revoked key ${key.keyId} of ${principalRef(keyOwner(key))}`,
      );
      return 0;
    }
  }
}

/** What is printed when a key is issued: what it is, then its text, once. */
export function issuedText({ apiKey, key, replaced }: IssuedApiKey): string {
  const lines = [
    `issued key ${key.keyId} for ${principalRef(keyOwner(key))} (${key.kind}; roles ${key.roles.join(', ')}; ` +
      `expires ${key.expiresAt ?? 'never'})`,
  ];
  if (replaced) lines.push(`it replaces key ${replaced.keyId}, which stops working at ${replaced.revokedAt}`);
  lines.push(`API key (shown once, keep it secret): ${apiKey}`);
  return lines.join('\n');
}

/** A fixed-width table of keys and their status at `nowMs`. */
export function keysTable(keys: readonly ApiKeyView[], tenant: string, nowMs: number): string {
  if (keys.length === 0) return `no API keys in tenant "${tenant}"`;
  const rows = keys.map((k) => [
    k.keyId,
    k.principal,
    k.kind,
    k.roles.join(','),
    k.groups.join(',') || '-',
    statusText(k, nowMs),
    k.expiresAt ?? 'never',
    k.description ?? '',
  ]);
  const all = [
    ['KEY ID', 'PRINCIPAL', 'KIND', 'ROLES', 'GROUPS', 'STATUS', 'EXPIRES', 'DESCRIPTION'],
    ...rows,
  ];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function statusText(key: ApiKeyView, nowMs: number): string {
  const status = keyStatus(key, nowMs);
  return status === 'active' && key.revokedAt !== undefined ? `active until ${key.revokedAt}` : status;
}

function keyOwner(key: ApiKeyView): { tenant: string; id: string } {
  return { tenant: key.tenant, id: key.principal };
}
