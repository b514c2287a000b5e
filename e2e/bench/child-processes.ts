/**
 * The benchmark's child processes. Each child leads its own process group (so mcp-proxy's and the router's
 * stdio upstreams go with it), keeps the tail of its output for error messages, and is stopped by its id:
 * SIGTERM to the group, SIGKILL after a grace period. `stopAll` is idempotent; `killAllNow` is the last
 * resort for a synchronous `exit` handler.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { tcpAnswers } from '@meshgate/testing';

const TAIL_BYTES = 4096;
const GRACE_MS = 3000;

/** A running child and what it printed last. */
export interface BenchChild {
  name: string;
  pid: number;
  process: ChildProcess;
  /** The last few KB of stdout and stderr together. */
  tail(): string;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Starts children and stops every one of them. */
export class ChildProcesses {
  private readonly children: BenchChild[] = [];

  /** Every child runs in `cwd`. */
  constructor(private readonly cwd: string) {}

  /** Spawns `command args` in its own process group, with `env` added to this process's environment. */
  spawn(name: string, command: string, args: string[], env: Record<string, string> = {}): BenchChild {
    const proc = spawn(command, args, {
      cwd: this.cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let tail = '';
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    if (proc.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
    const child: BenchChild = { name, pid: proc.pid, process: proc, tail: () => tail };
    this.children.push(child);
    return child;
  }

  /** Stops one child: SIGTERM to its group, SIGKILL if it has not exited after the grace period. */
  async stop(child: BenchChild): Promise<void> {
    const index = this.children.indexOf(child);
    if (index >= 0) this.children.splice(index, 1);
    const proc = child.process;
    if (proc.exitCode !== null || proc.signalCode !== null) return signalGroup(child.pid, 'SIGKILL');
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    signalGroup(child.pid, 'SIGTERM');
    const timer = new Promise((resolve) => setTimeout(resolve, GRACE_MS).unref());
    await Promise.race([exited, timer]);
    signalGroup(child.pid, 'SIGKILL');
  }

  /** Stops every child still running, in reverse order of start. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.children].reverse().map((child) => this.stop(child)));
  }

  /** SIGKILLs every remaining child's group at once (for a synchronous exit path). */
  killAllNow(): void {
    for (const child of this.children.splice(0)) signalGroup(child.pid, 'SIGKILL');
  }
}

function exitedError(child: BenchChild): Error | undefined {
  const proc = child.process;
  if (proc.exitCode === null && proc.signalCode === null) return undefined;
  return new Error(`${child.name} exited (${proc.exitCode ?? proc.signalCode}) while starting:\n${child.tail()}`);
}

/** Polls `probe` every 100 ms until it is true; fails if `child` exits or `timeoutMs` passes. */
export async function waitUntil(child: BenchChild, what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exited = exitedError(child);
    if (exited) throw exited;
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${child.name}: ${what} not reached within ${timeoutMs} ms:\n${child.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until `child` accepts TCP connections on 127.0.0.1:`port`. */
export function waitForPort(child: BenchChild, port: number, timeoutMs = 30_000): Promise<void> {
  return waitUntil(child, `port ${port} open`, () => tcpAnswers('127.0.0.1', port, 200), timeoutMs);
}

/** Waits until GET `url` answers 200. */
export function waitForHttp200(child: BenchChild, url: string, timeoutMs = 60_000): Promise<void> {
  const probe = async (): Promise<boolean> => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  };
  return waitUntil(child, `200 from ${url}`, probe, timeoutMs);
}
