/**
 * The `meshgate` command: parses argv, runs one command, and maps every outcome to an exit code (0 ok,
 * 1 failure, 2 usage). Nothing here exits the process; `main.ts` does, so tests call `run` directly.
 */
import { ConfigError } from '@meshgate/config';
import { ApiError, ApiUnreachable } from './api-client';
import { parseCommand, UsageError, type Command } from './args';
import { runAudit } from './commands/audit';
import { runKeys } from './commands/keys';
import { runLimits, runPolicies } from './commands/policies';
import { runServers } from './commands/servers';
import { runStart } from './commands/start';
import { runUpstreamTokens } from './commands/upstream-tokens';
import type { Io } from './io';
import { Usage } from './usage';

export interface RunContext {
  io: Io;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Ends a long-running command (`audit tail`) with exit code 0. */
  signal?: AbortSignal;
  /** Where `upstream-tokens put --token-file -` reads the token; the process's standard input by default. */
  stdin?: AsyncIterable<Uint8Array | string>;
}

/** Runs `meshgate <argv>`; resolves to the exit code. */
export async function run(argv: readonly string[], ctx: RunContext): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv, ctx.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    ctx.io.err(argv.length === 0 ? Usage : `meshgate: ${err.message}\nRun "meshgate help" for usage.`);
    return 2;
  }
  try {
    switch (command.kind) {
      case 'help':
        ctx.io.out(Usage);
        return 0;
      case 'start':
        return await runStart({ jsonLogs: command.jsonLogs, io: ctx.io, env: ctx.env, cwd: ctx.cwd });
      case 'audit-query':
      case 'audit-tail':
      case 'audit-verify':
        return await runAudit(command, ctx.io, ctx.signal);
      case 'keys-create':
      case 'keys-list':
      case 'keys-rotate':
      case 'keys-revoke':
        return await runKeys(command, ctx.io);
      case 'upstream-tokens-put':
      case 'upstream-tokens-delete':
      case 'upstream-tokens-status':
        return await runUpstreamTokens(command, ctx.io, {
          cwd: ctx.cwd,
          ...(ctx.stdin === undefined ? {} : { stdin: ctx.stdin }),
        });
      case 'policies-list':
      case 'policies-get':
      case 'policies-put':
      case 'policies-validate':
      case 'policies-delete':
        return await runPolicies(command, ctx.io, ctx.cwd);
      case 'limits-get':
      case 'limits-put':
        return await runLimits(command, ctx.io, ctx.cwd);
      default:
        return await runServers(command, ctx.io);
    }
  } catch (err) {
    ctx.io.err(`meshgate: ${failureText(err, command.kind)}`);
    return 1;
  }
}

function failureText(err: unknown, kind: Command['kind']): string {
  if (err instanceof ApiUnreachable) {
    if (kind.startsWith('audit-'))
      return `${err.message}\nIs the audit service running? Point --audit-url or MESHGATE_AUDIT_URL at it.`;
    if (kind.startsWith('policies-') || kind.startsWith('limits-'))
      return `${err.message}\nIs the policy service running? Point --policy-url or MESHGATE_POLICY_URL at it.`;
    if (kind.startsWith('keys-') || kind.startsWith('upstream-tokens-'))
      return `${err.message}\nIs the gateway running ("meshgate start")? Point --ingress-url or MESHGATE_INGRESS_URL at ingress.`;
    return `${err.message}\nIs the gateway running ("meshgate start")? Point --registry-url or MESHGATE_REGISTRY_URL at the registry.`;
  }
  if (err instanceof ApiError || err instanceof ConfigError) return err.message;
  return err instanceof Error
    ? `unexpected error: ${err.stack ?? err.message}`
    : `unexpected error: ${String(err)}`;
}
