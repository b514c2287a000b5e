/**
 * Process-level harness for end-to-end tests that kill and restart things: spawns the real launchers
 * (`node --import tsx services/<name>/src/main.ts`, cwd = repository root) or any command, each leading its
 * own process group so that whatever it spawned (a router's stdio upstreams) goes with it; keeps the tail of
 * each one's output for failure messages; polls readiness with a bound; kills by id. A process still running
 * when the test process exits is killed on the way out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsServerBinary } from '@meshgate/testing';

/** The repository root, where service launchers run. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const TAIL_CHARS = 16_000;

/** How a process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What to run; `env` is added to this process's environment. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** A spawned process leading its own process group. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Settles once the process has exited; never rejects. */
  readonly exited: Promise<ExitStatus>;
  running(): boolean;
  /** The last characters it wrote to stdout and stderr, interleaved as they came. */
  output(): string;
  /** SIGKILL to this process alone (what it spawned lives on until {@link ManagedProcess.stop}); resolves on exit. */
  kill9(): Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL to the whole group after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing is left in the group.
  }
}

/** Spawns `spec` in a new process group with piped output. */
export function spawnProcess(spec: ProcessSpec): ManagedProcess {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`${spec.name}: could not spawn ${spec.command}`);
  const pid = child.pid;
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve((status = { code, signal })));
  });
  const managed: ManagedProcess = {
    name: spec.name,
    pid,
    child,
    exited,
    running: () => status === undefined,
    output: () => tail,
    async kill9() {
      if (status === undefined) child.kill('SIGKILL');
      return exited;
    },
    async stop(graceMs = 5000) {
      if (status === undefined) {
        child.kill('SIGTERM');
        const timer = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
        if ((await Promise.race([exited, timer])) === 'timeout') signalGroup(pid, 'SIGKILL');
      }
      const result = await exited;
      signalGroup(pid, 'SIGKILL');
      live.delete(managed);
      return result;
    },
  };
  live.add(managed);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => live.forEach((p) => signalGroup(p.pid, 'SIGKILL')));
  }
  return managed;
}

/** Audit spools of the services this test process starts, removed when it exits. */
const spoolRoot = mkdtempSync(join(tmpdir(), 'mg-e2e-spool-'));
process.once('exit', () => rmSync(spoolRoot, { recursive: true, force: true }));

/** The services with a launcher at `services/<name>/src/main.ts`. */
export type ServiceName = 'registry' | 'policy' | 'router' | 'ingress';

/** Runs a service's real launcher from the repository root; `label` names it in messages. */
export function spawnService(
  service: ServiceName,
  env: Record<string, string>,
  label: string = service,
): ManagedProcess {
  return spawnProcess({
    name: label,
    command: process.execPath,
    args: ['--import', 'tsx', `services/${service}/src/main.ts`],
    cwd: REPO_ROOT,
    // A spool of the test's own, so that no test leaves audit events in the repository's .meshgate/.
    env: { MESHGATE_AUDIT_SPOOL_DIR: join(spoolRoot, label), ...env },
  });
}

/** The output tails of `procs`, one block each, for a failure message. */
export function outputs(procs: readonly ManagedProcess[]): string {
  return procs.map((p) => `--- ${p.name} (pid ${p.pid}) ---\n${p.output().trimEnd()}`).join('\n');
}

/**
 * Polls `check` every 100 ms until it holds; throws, with the process's output, when `proc` exits first
 * or `timeoutMs` passes.
 */
export async function waitReady(
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  timeoutMs: number,
  what = 'ready',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) throw new Error(`${proc.name} exited before it was ${what}\n${outputs([proc])}`);
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`${proc.name} not ${what} within ${timeoutMs} ms\n${outputs([proc])}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** True when GET `url` answers 200 within a second. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Stops every process in `procs` at once (SIGTERM, then SIGKILL to its group); never rejects. */
export async function stopAll(procs: readonly ManagedProcess[], graceMs = 3000): Promise<void> {
  await Promise.all(procs.map((p) => p.stop(graceMs).catch(() => undefined)));
}

/** Parent pid and state of a live process from /proc (Linux), or null when it is gone or a zombie. */
function procStat(pid: number): { ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' || state === 'X' ? null : { ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/** The pids of every live descendant of `root` (children, grandchildren...), read from /proc. */
export function descendantPids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  for (let queue = [root]; queue.length > 0;) {
    const next = queue.flatMap((pid) => children.get(pid) ?? []);
    found.push(...next);
    queue = next;
  }
  return found;
}

/** True while `pid` is a live process (zombies count as gone). */
export function pidAlive(pid: number): boolean {
  return procStat(pid) !== null;
}

/** The command line of `pid` (arguments joined by spaces), or '' when it is gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * A nats-server with JetStream on a fixed loopback port and store directory, so that a test can stop it and
 * start it again in place (same port, same streams). Its log goes to the output tail like any process's.
 */
export function spawnNatsServer(port: number, storeDir: string, label = 'nats'): ManagedProcess {
  return spawnProcess({
    name: label,
    command: natsServerBinary(),
    args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
    cwd: REPO_ROOT,
    env: {},
  });
}

/**
 * Runs the audit service's real launcher (`services/audit/src/main.ts`) from the repository root. Its API's
 * spool defaults to one of the test's own, as for {@link spawnService}; give `MESHGATE_AUDIT_DATA_DIR` (the
 * signing key) so that a restarted replica signs with the key of its predecessor.
 */
export function spawnAuditService(env: Record<string, string>, label = 'audit'): ManagedProcess {
  return spawnProcess({
    name: label,
    command: process.execPath,
    args: ['--import', 'tsx', 'services/audit/src/main.ts'],
    cwd: REPO_ROOT,
    env: { MESHGATE_AUDIT_SPOOL_DIR: join(spoolRoot, label), ...env },
  });
}
