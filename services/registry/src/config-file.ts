/**
 * The Meshgate configuration file: JSON or YAML (by extension, else sniffed), holding the `mcpServers` map
 * of desktop MCP clients. `${VAR}` references are expanded against the registry's environment, except in
 * secret references (`{env}`, `{file}`), which reach the definitions as written for the router to resolve.
 * Parsing is pure (text and environment in, definitions out); it reports every problem at once, each
 * naming the file, the server and the field, e.g. `meshgate.yaml: server "github": url: Invalid URL`.
 */
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ServerDefinition } from '@meshgate/contracts';
import { ServerName } from '@meshgate/contracts';
import { expandReferences, type Environment } from './env-references';
import { entryToDefinition, isSecretReference } from './mcp-servers-format';

/** The file cannot be used; `problems` lists every reason, one line each. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(
      problems.length === 1
        ? (problems[0] ?? '')
        : `${file}: ${problems.length} problems:\n${problems.join('\n')}`,
    );
    this.name = 'ConfigFileError';
  }
}

const FileShape = z.strictObject({ mcpServers: z.record(z.string(), z.unknown()) });

/** How the text is read: by extension, else JSON when it starts with `{`. */
export function formatOf(file: string, text: string): 'json' | 'yaml' {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/**
 * Parses the configuration `text` of `file`, resolving `${VAR}` references against `env`; secret
 * references (`{env: NAME}`, `{file: /path}`) are kept for the router.
 */
export function parseConfigFile(file: string, text: string, env: Environment): ServerDefinition[] {
  const document = parseDocument(file, text.replace(/^\uFEFF/, ''));
  const shape = FileShape.safeParse(document);
  if (!shape.success) {
    throw new ConfigFileError(
      file,
      shape.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${topLevelMessage(i)}`),
    );
  }
  const problems: string[] = [];
  const definitions: ServerDefinition[] = [];
  // The raw map, not zod's copy: zod drops a "__proto__" key, which must be reported like any bad name.
  const servers = (document as { mcpServers: Record<string, unknown> }).mcpServers;
  for (const [name, rawEntry] of Object.entries(servers)) {
    const where = `${file}: server ${quote(name)}`;
    if (!ServerName.safeParse(name).success) {
      problems.push(`${where}: name: ${ServerName.safeParse(name).error?.issues[0]?.message ?? 'invalid'}`);
      continue;
    }
    const expanded = expandReferences(rawEntry, env, isSecretReference);
    for (const e of expanded.errors) problems.push(`${where}: ${e.path}: ${e.message}`);
    if (expanded.errors.length) continue;
    const result = entryToDefinition(name, expanded.value);
    if (result.ok) definitions.push(result.definition);
    else
      for (const p of result.problems)
        problems.push(p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`);
  }
  if (problems.length) throw new ConfigFileError(file, problems);
  return definitions;
}

function parseDocument(file: string, text: string): unknown {
  if (formatOf(file, text) === 'json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ConfigFileError(file, [`${file}: not valid JSON: ${firstLine(err)}`]);
    }
  }
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigFileError(file, [`${file}: not valid YAML: ${firstLine(err)}`]);
  }
}

function topLevelMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field ${issue.keys.map(quote).join(', ')} (expected mcpServers)`;
  if (issue.path.length === 0) return 'the file must hold an object with an "mcpServers" map';
  if (issue.code === 'invalid_type') return 'must be a map of server names to servers';
  return issue.message;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unreadable';
}
