/**
 * The processes `meshgate start` runs and the signals that stop them. Ctrl-C, SIGTERM and SIGHUP ask for
 * a stop (once; later signals change nothing); children stop in reverse start order, each given the grace
 * period; and if `meshgate` itself exits abruptly, every child's process group is killed on the way out.
 */
import { describeExit, type ChildHandle, type ExitInfo } from './child';

const StopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class Supervisor {
  private readonly children: ChildHandle[] = [];
  private signal: string | null = null;
  private wake: () => void = () => {};
  private readonly stopRequested = new Promise<void>((resolve) => (this.wake = resolve));
  private readonly onSignal = (signal: string) => {
    if (this.signal !== null) return;
    this.signal = signal;
    this.say(`${signal} received: stopping`);
    this.wake();
  };
  private readonly killAll = () => this.children.forEach((child) => child.kill());

  constructor(
    private readonly say: (line: string) => void,
    private readonly graceMs: number,
  ) {}

  /** Takes over the stop signals until `stopAll` has run. */
  install(): void {
    StopSignals.forEach((signal) => process.on(signal, this.onSignal));
    process.on('exit', this.killAll);
  }

  /** The signal that asked for a stop, or null while none has. */
  get stopSignal(): string | null {
    return this.signal;
  }

  add(child: ChildHandle): void {
    this.children.push(child);
  }

  /** Why waiting for `child` to be ready is pointless now, or null. */
  reasonToGiveUp(child: ChildHandle | null): string | null {
    const dead = this.children.find((c) => c.hasExited());
    if (dead !== undefined)
      return dead === child ? 'exited before it was ready' : `${dead.name} exited meanwhile`;
    return this.signal === null ? null : 'stopped by the user';
  }

  /** How the first child to have exited did, if one has. */
  async firstExit(): Promise<string | null> {
    const dead = this.children.find((c) => c.hasExited());
    return dead === undefined ? null : describeExit(await dead.exited);
  }

  /** Resolves with the first child to exit, or with null when a stop is asked for first. */
  nextDeath(): Promise<[ChildHandle, ExitInfo] | null> {
    return Promise.race([
      this.stopRequested.then(() => null),
      ...this.children.map((child) => child.exited.then((info): [ChildHandle, ExitInfo] => [child, info])),
    ]);
  }

  /** Stops every child in reverse start order, then gives the signals back. */
  async stopAll(): Promise<void> {
    for (const child of [...this.children].reverse()) {
      const running = !child.hasExited();
      const info = await child.stop(this.graceMs);
      if (running) this.say(`${child.name} stopped (${describeExit(info)})`);
    }
    StopSignals.forEach((signal) => process.off(signal, this.onSignal));
    process.off('exit', this.killAll);
  }
}
