/**
 * The servers of the configuration file, applied to the catalogue on every start. A missing file means no
 * file servers (or the demo upstream, when asked for); servers added through the API are never touched.
 * A server whose stored definition already equals the file's is left alone, so a restart does not bump
 * revisions and make every router reconnect.
 */
import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { RegistryChanged, ServerDefinition } from '@meshgate/contracts';
import type { ServerCatalogue } from '@meshgate/store';
import { ConfigFileError, parseConfigFile } from './config-file';
import type { Environment } from './env-references';
import { demoUpstream } from './demo-upstream';

/** Reads the definitions of `file`; null when the file does not exist. */
export async function readConfigFile(file: string, env: Environment): Promise<ServerDefinition[] | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new ConfigFileError(file, [`${file}: cannot be read (${code ?? 'unknown error'})`]);
  }
  return parseConfigFile(file, text, env);
}

/** The servers to apply at start: the file's, else the demo upstream when `demo` is set, else none. */
export async function fileServers(
  file: string,
  env: Environment,
  demo: boolean,
): Promise<ServerDefinition[]> {
  const fromFile = await readConfigFile(file, env);
  if (fromFile) return fromFile;
  return demo ? [demoUpstream()] : [];
}

/** What applying did: the names written and the names already up to date. */
export interface Applied {
  written: string[];
  unchanged: string[];
}

/** Upserts `definitions` into `catalogue`, announcing each write through `onChange`. */
export async function applyServers(
  catalogue: ServerCatalogue,
  definitions: ServerDefinition[],
  onChange: (change: RegistryChanged) => void,
): Promise<Applied> {
  const applied: Applied = { written: [], unchanged: [] };
  for (const definition of definitions) {
    const current = await catalogue.get(definition.name);
    if (current && isDeepStrictEqual(current.definition, definition)) {
      applied.unchanged.push(definition.name);
      continue;
    }
    const record = await catalogue.put(definition);
    onChange({ v: 1, op: 'put', name: definition.name, revision: record.revision });
    applied.written.push(definition.name);
  }
  return applied;
}
