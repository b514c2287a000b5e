/**
 * NATS for `meshgate start`: use the server that answers at NATS_URL, or start `nats-server` with JetStream
 * on that port (data in <repo>/.meshgate/nats) when the URL points at this machine. Without `nats-server`
 * installed, the user gets the one command that installs it.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describeExit, startChild, type ChildHandle } from './child';
import { natsAnswers, waitUntil } from './readiness';
import type { StartConfig } from './start-config';

/** NATS does not answer and cannot be started here (exit code 1). */
export class NatsUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NatsUnavailable';
  }
}

/** Where Debian installs `nats-server`; not on every user's PATH. */
const SystemDirs = ['/usr/sbin', '/usr/local/sbin'];

/** The first executable `name` on `pathEnv` or in the system directories, or null. */
export function findExecutable(
  name: string,
  pathEnv: string | undefined,
  extraDirs: readonly string[] = SystemDirs,
): string | null {
  const dirs = [...(pathEnv ?? '').split(delimiter).filter((d) => d !== ''), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** nats-server's informational lines (its start banner): hidden, since meshgate says what it started. */
export function isRoutineNatsLine(line: string): boolean {
  return /^\[\d+\] \S+ \S+ \[(INF|DBG|TRC)\] /.test(line);
}

/** The one thing to do when `nats-server` is missing, for this kind of system. */
export function installHint(debianLike: boolean, root: boolean): string {
  if (!debianLike)
    return 'Install nats-server (see https://docs.nats.io/running-a-nats-service/introduction/installation) and run again.';
  return `Install it with:\n  ${root ? '' : 'sudo '}apt-get install -y nats-server`;
}

export interface EnsureNatsOptions {
  config: StartConfig;
  repoRoot: string;
  /** Prints one line of meshgate's own output. */
  say(line: string): void;
  /** Prints one line of nats-server's output. */
  onLine(line: string): void;
  giveUp(): string | null;
  /** How to tell NATS answers at a URL (a NATS connection by default). */
  answers?: (url: string) => Promise<boolean>;
}

/** Makes NATS answer at NATS_URL; returns the nats-server it started, or null when one was already there. */
export async function ensureNats(opts: EnsureNatsOptions): Promise<ChildHandle | null> {
  const { natsUrl, nats } = opts.config;
  const answers = opts.answers ?? ((url: string) => natsAnswers(url));
  if (await answers(natsUrl)) {
    opts.say(`NATS answers at ${natsUrl}`);
    return null;
  }
  if (!nats.local)
    throw new NatsUnavailable(
      `nothing answers at NATS_URL=${natsUrl}, and meshgate starts NATS only on this machine`,
    );
  const bin = process.env['NATS_SERVER_BIN'] ?? findExecutable('nats-server', process.env['PATH']);
  if (bin === null) {
    const hint = installHint(existsSync('/etc/debian_version'), process.getuid?.() === 0);
    throw new NatsUnavailable(`nothing answers at ${natsUrl} and nats-server is not installed. ${hint}`);
  }
  const storeDir = join(opts.repoRoot, '.meshgate', 'nats');
  mkdirSync(storeDir, { recursive: true });
  const bind = nats.host === '::1' || nats.host === '[::1]' ? '::1' : '127.0.0.1';
  opts.say(`starting ${bin} on ${bind}:${nats.port} with JetStream in ${storeDir}`);
  const child = startChild({
    name: 'nats',
    command: bin,
    args: ['-js', '-sd', storeDir, '-a', bind, '-p', String(nats.port)],
    cwd: opts.repoRoot,
    env: process.env,
    // nats-server shuts down the same way on both, but exits 1 after SIGTERM and 0 after SIGINT.
    stopSignal: 'SIGINT',
    onLine: (line) => {
      if (!isRoutineNatsLine(line)) opts.onLine(line);
    },
  });
  try {
    await waitUntil(() => answers(natsUrl), {
      what: 'nats-server',
      timeoutMs: 15_000,
      giveUp: () => (child.hasExited() ? 'exited' : opts.giveUp()),
    });
  } catch (err) {
    const info = child.hasExited() ? await child.exited : await child.stop(1000);
    throw new NatsUnavailable(`${err instanceof Error ? err.message : String(err)} (${describeExit(info)})`);
  }
  return child;
}
