/**
 * stdio upstreams: the router spawns the server's command and speaks newline-delimited JSON-RPC on its
 * stdin/stdout. Its stderr lines go to the log under the server's name. The child gets only a small safe
 * environment plus the definition's own variables, never the router's secrets (a variable given as a
 * reference, `{env}` or `{file}`, is resolved at every spawn). Stop kills it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@meshgate/config';
import type { JsonRpcMessage, StdioServer } from '@meshgate/contracts';
import { parseJson, type TransportEvents, type UpstreamTransport } from './transport';
import { resolveSecrets } from './secret-values';

/** Variables a child inherits from the router (the same set the MCP SDK passes by default). */
const InheritedEnv =
  process.platform === 'win32'
    ? [
        'APPDATA',
        'HOMEDRIVE',
        'HOMEPATH',
        'LOCALAPPDATA',
        'PATH',
        'PROCESSOR_ARCHITECTURE',
        'SYSTEMDRIVE',
        'SYSTEMROOT',
        'TEMP',
        'USERNAME',
        'USERPROFILE',
      ]
    : ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'];

/** How long a child may take to exit after SIGTERM before it gets SIGKILL. */
const KillGraceMs = 2000;
const MaxStderrLine = 2000;
/** Longest line read from a child's stdout; a longer one is a hostile or broken upstream (as for HTTP bodies). */
export const MaxLineBytes = 32 * 1024 * 1024;
/** Most input queued for a child that does not read its stdin; sends beyond it are refused. */
export const MaxUnreadInputBytes = 32 * 1024 * 1024;

/** The environment of a child: the inherited safe variables, then the definition's own. */
export function childEnv(
  own: Record<string, string>,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of InheritedEnv) {
    const value = parent[key];
    if (value !== undefined && !value.startsWith('()')) env[key] = value;
  }
  return { ...env, ...own };
}

/** The transport of `stdio` definitions: one child process. */
export class StdioTransport implements UpstreamTransport {
  private child: ChildProcessWithoutNullStreams | undefined;
  private closing = false;
  private reported = false;

  constructor(
    private readonly def: StdioServer,
    private readonly events: TransportEvents,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const own = await resolveSecrets(this.def.env, (name) => `env "${name}"`);
    return new Promise((resolve, reject) => {
      const child = spawn(this.def.command, this.def.args, {
        env: childEnv(own),
        ...(this.def.cwd ? { cwd: this.def.cwd } : {}),
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      this.child = child;
      child.once('spawn', () => resolve());
      child.once('error', (err) => {
        reject(err);
        this.report(`process failed: ${err.message}`);
      });
      child.once('exit', (code, signal) => this.report(`process exited with ${signal ?? `code ${code}`}`));
      child.stdin.on('error', (err) => this.log.debug({ err: err.message }, 'upstream stdin error'));
      this.boundLines(child);
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        if (line.trim()) this.log.info({ stderr: line.slice(0, MaxStderrLine) }, 'upstream stderr');
      });
    });
  }

  send(message: JsonRpcMessage): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.stdin.writable)
      return Promise.reject(new Error('process is not running'));
    if (child.stdin.writableLength > MaxUnreadInputBytes)
      return Promise.reject(new Error('process is not reading its input'));
    return new Promise((resolve, reject) => {
      child.stdin.write(`${JSON.stringify(message)}\n`, (err) => (err ? reject(err) : resolve()));
    });
  }

  initialized(): void {}

  async close(): Promise<void> {
    this.closing = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), KillGraceMs);
    await exited;
    clearTimeout(timer);
  }

  /** readline buffers a line without limit: a child writing one that never ends is given up on. */
  private boundLines(child: ChildProcessWithoutNullStreams): void {
    let pending = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      const newline = chunk.lastIndexOf(0x0a);
      pending = newline < 0 ? pending + chunk.length : chunk.length - newline - 1;
      if (pending <= MaxLineBytes) return;
      child.stdout.destroy();
      this.report(`process wrote a line longer than ${MaxLineBytes} bytes`);
    });
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    const message = parseJson(line);
    if (message === undefined)
      this.log.warn({ line: line.slice(0, 200) }, 'upstream wrote a line that is not JSON');
    else this.events.message(message);
  }

  private report(reason: string): void {
    if (this.reported) return;
    this.reported = true;
    if (!this.closing) this.events.closed(reason);
  }
}
