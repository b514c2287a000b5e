/**
 * One entry of the `mcpServers` map that desktop MCP clients use, plus Meshgate's extras, turned into a
 * ServerDefinition. An entry is a local process (`command`, `args`, `env`, `cwd`) or a remote server (`url`,
 * `type`, `headers`, `auth`; a url without type is Streamable HTTP); either may set concurrency limits.
 * Secrets (`env` values, `auth.headers` values, `auth.clientSecret`) may be `{env: NAME}` or `{file: /path}`
 * references, which the router resolves when it connects; they pass through unchanged. Unknown keys are
 * refused so that a typo never goes unnoticed. Every problem of an entry is reported, each with its field.
 */
import { z } from 'zod';
import { ServerDefinition, type ServerDefinitionInput } from '@meshgate/contracts';

/** Scalars are accepted where clients write strings (YAML reads `PORT: 8080` as a number). */
const Text = z.union([z.string(), z.number(), z.boolean()], { error: 'must be text' }).transform(String);
const HeaderText = z
  .union([z.string(), z.number(), z.boolean()], {
    error: 'must be text (put secret references {env} or {file} under auth.headers)',
  })
  .transform(String);
/** A secret: scalars become text; anything else goes to the definition schema, which judges references. */
const Secret = z
  .unknown()
  .transform((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v));

const Entry = z.strictObject({
  command: z.string().optional(),
  args: z.array(Text).optional(),
  env: z.record(z.string(), Secret).optional(),
  cwd: z.string().optional(),
  url: z.string().optional(),
  type: z.enum(['stdio', 'http', 'streamable-http', 'sse']).optional(),
  headers: z.record(z.string(), HeaderText).optional(),
  auth: z.unknown().optional(),
  disabled: z.boolean().optional(),
  stateful: z.boolean().optional(),
  timeoutMs: z.number().optional(),
  maxConcurrent: z.number().optional(),
  maxQueue: z.number().optional(),
  queueTimeoutMs: z.number().optional(),
  description: z.string().optional(),
});
type Entry = z.infer<typeof Entry>;

const SECRET_FORMS = 'text, {env: NAME} or {file: /absolute/path}';

/** Whether `path` (keys inside one entry) is a secret field: an `env` value, an auth header, the secret. */
export function isSecretField(path: readonly string[]): boolean {
  const [first, second] = path;
  if (first === 'env') return path.length === 2;
  if (first !== 'auth') return false;
  return second === 'headers' ? path.length === 3 : second === 'clientSecret' && path.length === 2;
}

/**
 * Whether `value` at `path` inside an entry is a secret reference that must reach the definition exactly
 * as written: any object in a secret field (the definition schema decides whether it is a valid one).
 */
export function isSecretReference(path: readonly string[], value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && isSecretField(path);
}

/** One problem of an entry: the field (dotted path, empty for the entry itself) and the message. */
export interface EntryProblem {
  field: string;
  message: string;
}

/** The definition of server `name` described by `entry`, or every problem found in it. */
export function entryToDefinition(
  name: string,
  entry: unknown,
): { ok: true; definition: ServerDefinition } | { ok: false; problems: EntryProblem[] } {
  const shape = Entry.safeParse(entry);
  if (!shape.success) return { ok: false, problems: shape.error.issues.map(toProblem) };
  const mapped = toInput(name, shape.data);
  if (!('transport' in mapped)) return { ok: false, problems: mapped };
  const parsed = ServerDefinition.safeParse(mapped, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(toProblem) };
  return { ok: true, definition: parsed.data };
}

// Secrets and auth are left for ServerDefinition to judge (right after mapping), hence these input types.
type StdioInput = Extract<ServerDefinitionInput, { transport: 'stdio' }>;
type HttpInput = Exclude<ServerDefinitionInput, StdioInput>;

function toInput(name: string, e: Entry): ServerDefinitionInput | EntryProblem[] {
  const common = {
    name,
    enabled: e.disabled !== true,
    ...(e.stateful !== undefined ? { stateful: e.stateful } : {}),
    ...(e.timeoutMs !== undefined ? { timeoutMs: e.timeoutMs } : {}),
    ...(e.maxConcurrent !== undefined ? { maxConcurrent: e.maxConcurrent } : {}),
    ...(e.maxQueue !== undefined ? { maxQueue: e.maxQueue } : {}),
    ...(e.queueTimeoutMs !== undefined ? { queueTimeoutMs: e.queueTimeoutMs } : {}),
    ...(e.description !== undefined ? { description: e.description } : {}),
  };
  if (e.command !== undefined && e.url !== undefined)
    return [
      { field: '', message: 'give either command (a local process) or url (a remote server), not both' },
    ];
  if (e.command === undefined && e.url === undefined)
    return [{ field: '', message: 'needs either command (a local process) or url (a remote server)' }];
  if (e.command !== undefined) {
    const problems = misplaced(e, ['headers', 'auth'], 'remote servers (url)');
    if (e.type !== undefined && e.type !== 'stdio')
      problems.push({ field: 'type', message: `"${e.type}" needs a url, not a command` });
    if (problems.length) return problems;
    return {
      ...common,
      transport: 'stdio',
      command: e.command,
      ...(e.args ? { args: e.args } : {}),
      ...(e.env ? { env: e.env as NonNullable<StdioInput['env']> } : {}),
      ...(e.cwd !== undefined ? { cwd: e.cwd } : {}),
    };
  }
  const problems = misplaced(e, ['args', 'env', 'cwd'], 'local processes (command)');
  if (e.type === 'stdio') problems.push({ field: 'type', message: '"stdio" needs a command, not a url' });
  if (problems.length) return problems;
  return {
    ...common,
    transport: e.type === 'sse' ? 'sse' : 'streamable-http',
    url: e.url ?? '',
    ...(e.headers ? { headers: e.headers } : {}),
    ...(e.auth !== undefined ? { auth: e.auth as NonNullable<HttpInput['auth']> } : {}),
  };
}

function misplaced(e: Entry, fields: Array<keyof Entry>, applies: string): EntryProblem[] {
  return fields
    .filter((f) => e[f] !== undefined)
    .map((f) => ({ field: f, message: `applies only to ${applies}` }));
}

/** Definition fields that the file spells differently. */
const FILE_FIELD = new Map([
  ['transport', 'type'],
  ['enabled', 'disabled'],
]);

function toProblem(issue: z.core.$ZodIssue): EntryProblem {
  const path = issue.path.map(String);
  const renamed = path[0] === undefined ? undefined : FILE_FIELD.get(path[0]);
  if (renamed) path[0] = renamed;
  const nested = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.code === 'invalid_union' && isSecretField(path)
        ? secretMessage(issue.input)
        : issue.message;
  return { field: path.join('.'), message: nested ?? message };
}

/** A secret that matches none of its forms; `input` is known because parsing reports it. */
function secretMessage(input: unknown): string {
  return input === undefined ? `required (${SECRET_FORMS})` : `must be ${SECRET_FORMS}`;
}
