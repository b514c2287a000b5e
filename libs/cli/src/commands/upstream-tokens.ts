/**
 * `meshgate upstream-tokens put|delete|status <server>`: the caller's own token for an upstream server with
 * `auth: {type: 'principal-token'}`, through ingress's self-service API (`/admin/v1/upstream-tokens`). The
 * token is read from a file or from standard input (`--token-file -`), checked before it is sent, and never
 * printed: not in results, not in errors. Arguments are parsed into an UpstreamTokensCommand (every mistake
 * a UsageError); `--json` prints results for scripts.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ServerName } from '@meshgate/contracts';
import { UpstreamTokenStatus, UpstreamTokenValue, UpstreamTokensPath } from '@meshgate/auth';
import { ApiClient, ApiError } from '../api-client';
import { UsageError } from '../args';
import type { Io } from '../io';
import { ingressTarget } from './keys';

interface Target {
  ingressUrl: string;
  apiKey: string;
  json: boolean;
  server: string;
}

/** One parsed `meshgate upstream-tokens` invocation. */
export type UpstreamTokensCommand =
  | (Target & { kind: 'upstream-tokens-put'; tokenFile: string })
  | (Target & { kind: 'upstream-tokens-delete' })
  | (Target & { kind: 'upstream-tokens-status' });

/** Where the token comes from when `--token-file -`: standard input by default. */
export interface TokenSource {
  cwd: string;
  stdin?: AsyncIterable<Uint8Array | string>;
}

const Subcommands = ['put', 'delete', 'status'] as const;
const Common = {
  'ingress-url': { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean' },
} as const;
/** A token file larger than this is not a token. */
const MaxTokenFileBytes = 16 * 1024;

type Values = Record<string, string | boolean | undefined>;

/** Parses `meshgate upstream-tokens <argv>`; throws UsageError on any mistake. */
export function parseUpstreamTokensCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): UpstreamTokensCommand {
  const [sub, ...rest] = argv;
  const verb = Subcommands.find((s) => s === sub);
  if (verb === undefined)
    throw new UsageError(
      sub === undefined
        ? '"upstream-tokens" needs a subcommand: put, delete or status'
        : `unknown subcommand "upstream-tokens ${sub}"`,
    );
  let values: Values;
  let args: string[];
  try {
    ({ values, positionals: args } = parseArgs({
      args: [...rest],
      options: verb === 'put' ? { ...Common, 'token-file': { type: 'string' } } : Common,
      strict: true,
      allowPositionals: true,
    }) as { values: Values; positionals: string[] });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
  const name = ServerName.safeParse(args[0]);
  if (args[0] === undefined) throw new UsageError(`"upstream-tokens ${verb}" needs the server name`);
  if (!name.success)
    throw new UsageError(`invalid server name "${args[0]}": ${name.error.issues[0]?.message}`);
  const target = {
    ...ingressTarget(values, env, '"upstream-tokens" needs your API key: --api-key or MESHGATE_API_KEY'),
    server: name.data,
  };
  if (verb !== 'put') return { kind: `upstream-tokens-${verb}`, ...target };
  const tokenFile = values['token-file'];
  if (typeof tokenFile !== 'string' || tokenFile === '')
    throw new UsageError('"upstream-tokens put" needs --token-file <path> (or --token-file - for stdin)');
  return { kind: 'upstream-tokens-put', ...target, tokenFile };
}

/** Runs one `upstream-tokens` command; returns the exit code. API failures are thrown to the caller. */
export async function runUpstreamTokens(
  cmd: UpstreamTokensCommand,
  io: Io,
  source: TokenSource,
): Promise<number> {
  const api = new ApiClient({ baseUrl: cmd.ingressUrl, apiKey: cmd.apiKey });
  const path = `${UpstreamTokensPath}/${encodeURIComponent(cmd.server)}`;
  switch (cmd.kind) {
    case 'upstream-tokens-put': {
      const token = await readToken(cmd.tokenFile, source);
      if (!token.ok) {
        io.err(`meshgate: ${token.problem}`);
        return 1;
      }
      await api.call('PUT', path, null, { token: token.value });
      io.out(cmd.json ? JSON.stringify({ server: cmd.server, stored: true }) : storedText(cmd.server));
      return 0;
    }
    case 'upstream-tokens-delete':
      await api.call('DELETE', path, null);
      io.out(
        cmd.json
          ? JSON.stringify({ server: cmd.server, deleted: true })
          : `deleted your upstream token for server "${cmd.server}"`,
      );
      return 0;
    case 'upstream-tokens-status': {
      let status: UpstreamTokenStatus | null;
      try {
        status = await api.call('GET', path, UpstreamTokenStatus);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
        status = null;
      }
      if (cmd.json) io.out(JSON.stringify(status ?? { server: cmd.server, stored: false }, null, 2));
      else
        io.out(
          status
            ? `an upstream token for server "${cmd.server}" is stored (updated ${status.updatedAt})`
            : `no upstream token is stored for server "${cmd.server}"`,
        );
      return 0;
    }
  }
}

function storedText(server: string): string {
  return `stored your upstream token for server "${server}" (encrypted; it is never shown again)`;
}

/** The token of `file` (`-`: standard input), surrounding whitespace removed; a problem that never holds it. */
export async function readToken(
  file: string,
  source: TokenSource,
): Promise<{ ok: true; value: string } | { ok: false; problem: string }> {
  const from = file === '-' ? 'standard input' : file;
  let bytes: Buffer;
  try {
    const stream =
      file === '-' ? (source.stdin ?? process.stdin) : createReadStream(resolve(source.cwd, file));
    bytes = await readBounded(stream);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    return { ok: false, problem: `cannot read the token from ${from}: ${code ?? (err as Error).message}` };
  }
  if (bytes.length > MaxTokenFileBytes)
    return { ok: false, problem: `the token in ${from} is larger than ${MaxTokenFileBytes} bytes` };
  const text = bytes.toString('utf8').trim();
  if (text === '') return { ok: false, problem: `no token in ${from}: it is empty` };
  const valid = UpstreamTokenValue.safeParse(text);
  if (!valid.success)
    return {
      ok: false,
      problem: `the token in ${from} is not valid: ${valid.error.issues[0]?.message ?? 'rejected'}`,
    };
  return { ok: true, value: valid.data };
}

/** Reads a stream to its end, or only past the limit (a token never comes from /dev/zero). */
async function readBounded(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    chunks.push(buf);
    size += buf.length;
    if (size > MaxTokenFileBytes) break;
  }
  return Buffer.concat(chunks);
}
