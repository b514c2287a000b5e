/**
 * One supervised child process of `meshgate start`. It runs in its own process group, so the terminal's
 * Ctrl-C reaches only `meshgate`, which then stops the children in order: SIGTERM to the child, SIGKILL to
 * its whole group after the grace period (taking any process it spawned along, such as a stdio upstream).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How a child ended; `error` is set when it could not be started at all. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The signal that asks the child to stop (SIGTERM unless the program wants another). */
  stopSignal?: NodeJS.Signals;
  /** Called with every line the child writes to stdout or stderr. */
  onLine(line: string): void;
}

export interface ChildHandle {
  readonly name: string;
  /** Settles when the child has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** The stop signal, then SIGKILL to the process group after `graceMs`; idempotent. */
  stop(graceMs: number): Promise<ExitInfo>;
  /** SIGKILL to the process group at once, synchronously (for the moment `meshgate` itself exits). */
  kill(): void;
}

/** Spawns `spec` in a new process group with piped, line-split output. */
export function startChild(spec: ChildSpec): ChildHandle {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => spec.onLine(line));
  }
  let done: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve((done = { code, signal })));
    child.once('error', (err) => {
      if (child.pid === undefined) resolve((done = { code: null, signal: null, error: err.message }));
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: nothing left in the group.
    }
  };
  let stopping: Promise<ExitInfo> | undefined;
  return {
    name: spec.name,
    exited,
    hasExited: () => done !== undefined,
    stop(graceMs) {
      stopping ??= (async () => {
        if (done === undefined) {
          child.kill(spec.stopSignal ?? 'SIGTERM');
          const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
          if ((await Promise.race([exited, timer])) === 'timeout') signalGroup('SIGKILL');
        }
        const info = await exited;
        signalGroup('SIGKILL');
        return info;
      })();
      return stopping;
    },
    kill: () => signalGroup('SIGKILL'),
  };
}

/** "exit code 1", "signal SIGKILL" or "could not start: ..." */
export function describeExit(info: ExitInfo): string {
  if (info.error !== undefined) return `could not start: ${info.error}`;
  if (info.signal !== null) return `signal ${info.signal}`;
  return `exit code ${info.code ?? 'unknown'}`;
}
