/**
 * `meshgate servers list|get|add|remove`: the registry's catalogue through the shared API client, printed
 * for people (a table, one-line confirmations) or, with `--json`, for scripts.
 */
import type { ServerRecord } from '@meshgate/contracts';
import { ApiClient, ApiError } from '../api-client';
import type { Command } from '../args';
import type { Io } from '../io';

export type ServersCommand = Extract<Command, { kind: `servers-${string}` }>;

/** Runs one `servers` command; returns the exit code. API failures are thrown to the caller. */
export async function runServers(cmd: ServersCommand, io: Io): Promise<number> {
  const api = new ApiClient({ baseUrl: cmd.registryUrl });
  switch (cmd.kind) {
    case 'servers-list': {
      const records = await api.servers.list();
      io.out(cmd.json ? JSON.stringify(records, null, 2) : serversTable(records));
      return 0;
    }
    case 'servers-get': {
      const record = await notFoundAsError(api.servers.get(cmd.name), cmd.name);
      io.out(JSON.stringify(record, null, 2));
      return 0;
    }
    case 'servers-add': {
      const record = await conflictAsError(api.servers.add(cmd.definition), cmd.definition.name);
      io.out(
        `added server "${record.definition.name}" (${record.definition.transport}, revision ${record.revision})`,
      );
      return 0;
    }
    case 'servers-remove': {
      await notFoundAsError(api.servers.remove(cmd.name), cmd.name);
      io.out(`removed server "${cmd.name}"`);
      return 0;
    }
  }
}

/** A fixed-width table of the catalogue: name, transport, enabled, and what the router connects to. */
export function serversTable(records: readonly ServerRecord[]): string {
  if (records.length === 0) return 'no servers registered (add one with: meshgate servers add <name> ...)';
  const rows = records.map(({ definition: d }) => [
    d.name,
    d.transport,
    d.enabled ? 'yes' : 'no',
    d.transport === 'stdio' ? [d.command, ...d.args].map(shellWord).join(' ') : d.url,
  ]);
  const all = [['NAME', 'TRANSPORT', 'ENABLED', 'TARGET'], ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((row) => row[i]!.length)));
  return all
    .map((row) => row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  '))
    .join('\n');
}

/** Quotes a word when a shell would split or expand it, so the TARGET column can be copied. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

async function notFoundAsError<T>(call: Promise<T>, name: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw new ApiError(404, `no server named "${name}"`);
    throw err;
  }
}

async function conflictAsError<T>(call: Promise<T>, name: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      throw new ApiError(
        409,
        `a server named "${name}" already exists (remove it first: meshgate servers remove ${name})`,
      );
    }
    throw err;
  }
}
