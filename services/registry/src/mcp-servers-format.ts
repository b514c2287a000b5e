/**
 * One entry of the `mcpServers` map that desktop MCP clients use, plus Meshgate's extras, turned into a
 * ServerDefinition. An entry is a local process (`command`, `args`, `env`, `cwd`) or a remote server (`url`,
 * `type`, `headers`; a url without type is Streamable HTTP). Unknown keys are refused so that a typo never
 * goes unnoticed. Every problem of an entry is reported, each with the field it concerns.
 */
import { z } from 'zod';
import { ServerDefinition, type ServerDefinitionInput } from '@meshgate/contracts';

/** Scalars are accepted where clients write strings (YAML reads `PORT: 8080` as a number). */
const Text = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const Entry = z.strictObject({
  command: z.string().optional(),
  args: z.array(Text).optional(),
  env: z.record(z.string(), Text).optional(),
  cwd: z.string().optional(),
  url: z.string().optional(),
  type: z.enum(['stdio', 'http', 'streamable-http', 'sse']).optional(),
  headers: z.record(z.string(), Text).optional(),
  disabled: z.boolean().optional(),
  stateful: z.boolean().optional(),
  timeoutMs: z.number().optional(),
  description: z.string().optional(),
});
type Entry = z.infer<typeof Entry>;

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
  const parsed = ServerDefinition.safeParse(mapped);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(toProblem) };
  return { ok: true, definition: parsed.data };
}

function toInput(name: string, e: Entry): ServerDefinitionInput | EntryProblem[] {
  const common = {
    name,
    enabled: e.disabled !== true,
    ...(e.stateful !== undefined ? { stateful: e.stateful } : {}),
    ...(e.timeoutMs !== undefined ? { timeoutMs: e.timeoutMs } : {}),
    ...(e.description !== undefined ? { description: e.description } : {}),
  };
  if (e.command !== undefined && e.url !== undefined)
    return [
      { field: '', message: 'give either command (a local process) or url (a remote server), not both' },
    ];
  if (e.command === undefined && e.url === undefined)
    return [{ field: '', message: 'needs either command (a local process) or url (a remote server)' }];
  if (e.command !== undefined) {
    const problems = misplaced(e, ['headers'], 'remote servers (url)');
    if (e.type !== undefined && e.type !== 'stdio')
      problems.push({ field: 'type', message: `"${e.type}" needs a url, not a command` });
    if (problems.length) return problems;
    return {
      ...common,
      transport: 'stdio',
      command: e.command,
      ...(e.args ? { args: e.args } : {}),
      ...(e.env ? { env: e.env } : {}),
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
      : issue.message;
  return { field: path.join('.'), message: nested ?? message };
}
