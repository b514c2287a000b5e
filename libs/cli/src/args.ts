/**
 * Command-line parsing: a pure function from argv (and the environment, for defaults) to one typed command.
 * Every mistake a user can make becomes a UsageError with a message that says what to type instead; the
 * caller turns it into exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { ServerDefinition, ServerName, type ServerDefinitionInput } from '@meshgate/contracts';
import { parseAuditCommand, type AuditCommand } from './commands/audit';
import { parseKeysCommand, type KeysCommand } from './commands/keys';
import {
  parseLimitsCommand,
  parsePoliciesCommand,
  type LimitsCommand,
  type PoliciesCommand,
} from './commands/policies';
import { parseUpstreamTokensCommand, type UpstreamTokensCommand } from './commands/upstream-tokens';

/** The user typed something the CLI does not accept (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where the registry REST API is reached when neither `--registry-url` nor MESHGATE_REGISTRY_URL is given. */
export const DefaultRegistryUrl = 'http://127.0.0.1:8081';

const HttpUrl = z.url({ protocol: /^https?$/ });
const EnvName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One parsed invocation of `meshgate`. */
export type Command =
  | { kind: 'help' }
  | { kind: 'start'; jsonLogs: boolean }
  | { kind: 'servers-list'; registryUrl: string; json: boolean }
  | { kind: 'servers-get'; registryUrl: string; name: ServerName }
  | { kind: 'servers-add'; registryUrl: string; definition: ServerDefinitionInput }
  | { kind: 'servers-remove'; registryUrl: string; name: ServerName }
  | AuditCommand
  | KeysCommand
  | UpstreamTokensCommand
  | PoliciesCommand
  | LimitsCommand;

/** Parses `argv` (without the node and script paths). Throws UsageError on any mistake. */
export function parseCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Command {
  const [verb, ...rest] = argv;
  if (verb === undefined) throw new UsageError('no command given');
  if (verb === 'help' || verb === '--help' || verb === '-h') return { kind: 'help' };
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help' };
  if (verb === 'start') {
    const { values } = parse(rest, { 'json-logs': { type: 'boolean' } }, 0);
    return { kind: 'start', jsonLogs: values['json-logs'] === true };
  }
  if (verb === 'servers') return parseServers(rest, env);
  if (verb === 'audit') return parseAuditCommand(rest, env);
  if (verb === 'keys') return parseKeysCommand(rest, env);
  if (verb === 'upstream-tokens') return parseUpstreamTokensCommand(rest, env);
  if (verb === 'policies') return parsePoliciesCommand(rest, env);
  if (verb === 'limits') return parseLimitsCommand(rest, env);
  throw new UsageError(`unknown command "${verb}"`);
}

function parseServers(argv: string[], env: Readonly<Record<string, string | undefined>>): Command {
  const [sub, ...rest] = argv;
  const common = { 'registry-url': { type: 'string' } } as const;
  switch (sub) {
    case 'list': {
      const { values } = parse(rest, { ...common, json: { type: 'boolean' } }, 0);
      return {
        kind: 'servers-list',
        registryUrl: registryUrl(values['registry-url'], env),
        json: values.json === true,
      };
    }
    case 'get':
    case 'remove': {
      const { values, positionals } = parse(rest, common, 1);
      const name = serverName(positionals[0]);
      const registry = registryUrl(values['registry-url'], env);
      return sub === 'get'
        ? { kind: 'servers-get', registryUrl: registry, name }
        : { kind: 'servers-remove', registryUrl: registry, name };
    }
    case 'add': {
      const options = {
        ...common,
        command: { type: 'string' },
        arg: { type: 'string', multiple: true },
        env: { type: 'string', multiple: true },
        url: { type: 'string' },
        type: { type: 'string' },
      } as const;
      const { values, positionals } = parse(rest, options, 1);
      const definition = serverDefinition(serverName(positionals[0]), values);
      return { kind: 'servers-add', registryUrl: registryUrl(values['registry-url'], env), definition };
    }
    case undefined:
      throw new UsageError('"servers" needs a subcommand: list, get, add or remove');
    default:
      throw new UsageError(`unknown subcommand "servers ${sub}"`);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs in strict mode with exactly `positionalCount` positionals; its errors become UsageErrors. */
function parse<O extends Options>(args: string[], options: O, positionalCount: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (parsed.positionals.length > positionalCount) {
    throw new UsageError(`unexpected argument "${parsed.positionals[positionalCount]}"`);
  }
  if (parsed.positionals.length < positionalCount) throw new UsageError('missing the server name');
  return parsed;
}

function serverName(raw: string | undefined): ServerName {
  const parsed = ServerName.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(`invalid server name "${raw}": ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function registryUrl(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const raw = flag ?? env['MESHGATE_REGISTRY_URL'] ?? DefaultRegistryUrl;
  const parsed = HttpUrl.safeParse(raw);
  if (!parsed.success) {
    const source = flag === undefined ? 'MESHGATE_REGISTRY_URL' : '--registry-url';
    throw new UsageError(`${source} must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

interface AddFlags {
  command?: string | undefined;
  arg?: string[] | undefined;
  env?: string[] | undefined;
  url?: string | undefined;
  type?: string | undefined;
}

/** Builds and validates the definition `servers add` sends: a stdio server (`--command`) or a remote one (`--url`). */
function serverDefinition(name: ServerName, flags: AddFlags): ServerDefinitionInput {
  if ((flags.command === undefined) === (flags.url === undefined)) {
    throw new UsageError(
      '"servers add" needs exactly one of --command (stdio server) or --url (remote server)',
    );
  }
  let input: ServerDefinitionInput;
  if (flags.command !== undefined) {
    if (flags.type !== undefined) throw new UsageError('--type applies to --url servers only');
    input = {
      name,
      transport: 'stdio',
      command: flags.command,
      args: flags.arg ?? [],
      env: envPairs(flags.env ?? []),
    };
  } else {
    if (flags.arg !== undefined || flags.env !== undefined)
      throw new UsageError('--arg and --env apply to --command servers only');
    if (flags.type !== undefined && flags.type !== 'http' && flags.type !== 'sse') {
      throw new UsageError(
        `--type must be "http" (Streamable HTTP) or "sse" (legacy HTTP+SSE), got "${flags.type}"`,
      );
    }
    input = { name, transport: flags.type === 'sse' ? 'sse' : 'streamable-http', url: flags.url ?? '' };
  }
  const checked = ServerDefinition.safeParse(input);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new UsageError(
      `invalid server definition: ${issue ? `${issue.path.join('.') || 'definition'}: ${issue.message}` : 'rejected'}`,
    );
  }
  return input;
}

function envPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    if (!EnvName.test(key))
      throw new UsageError(`--env takes KEY=VALUE with a valid variable name, got "${pair}"`);
    env[key] = pair.slice(eq + 1);
  }
  return env;
}
