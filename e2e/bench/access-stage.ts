/**
 * A stage of the request path measured by difference: three stdio stacks run side by side, the `subject`
 * (with the stage), the `baseline` (without it) and a second baseline, the `control`, each on a NATS
 * server of its own so that their routers never share a queue group. The access stage (authentication at
 * ingress and the router's policy stage) compares API keys, Cedar policies and the policy service with
 * MESHGATE_AUTH=none and MESHGATE_POLICY=off; the audit stage compares the trail published (or published
 * and archived) with the trail off. Each round measures all three one after the
 * other, in an order that rotates from round to round, so that a drift of the machine's load hits them
 * alike; the figure is the median of the per-round differences subject - baseline, shown with their range.
 * The control's differences (control - baseline, two identical stacks) show the noise floor of that figure on
 * this machine in this run. Each round also weighs the CPU time the stack's processes (every process of
 * its groups and its NATS server) spent per call, read from /proc: at saturation, p50 follows CPU per
 * call (Little's law), and the CPU difference is what the stage costs. The stacks are started afresh for
 * each block of rounds (see measureAccessStage).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { startMeshgate, type AccessSetting, type AuditSetting, type RunningTarget } from './bench-targets';
import type { ChildProcesses } from './child-processes';
import { runCell } from './closed-loop';
import type { CellFigures } from './latency-stats';

/** How the phase runs. */
export interface AccessStagePlan {
  sessions: readonly number[];
  rounds: number;
  /** How many times the three stacks are started afresh; the rounds are spread over these blocks. */
  blocks: number;
  durationMs: number;
  warmupCalls: number;
}

/** One measured round of one stack. */
export interface AccessRound {
  figures: CellFigures;
  /** CPU time of the stack's processes per call, in µs (null when /proc cannot be read). */
  cpuUsPerCall: number | null;
}

/** The three stacks: with the stage, without it, and without it again (the control). */
export type AccessStack = 'subject' | 'baseline' | 'control';

/** How each of the three stacks is started, and what the phase is called in progress lines. */
export interface StageSetup {
  label: string;
  stacks: Record<AccessStack, { audit: AuditSetting; access: AccessSetting }>;
}

/** The access stage: enforced vs open, the trail off in all three. */
export const AccessStageSetup: StageSetup = {
  label: 'access stage',
  stacks: {
    subject: { audit: 'off', access: 'enforced' },
    baseline: { audit: 'off', access: 'open' },
    control: { audit: 'off', access: 'open' },
  },
};

/** The audit stage: the trail published (`publish`) or published and archived (`on`) vs off, access enforced. */
export function auditStageSetup(audit: 'publish' | 'on'): StageSetup {
  return {
    label: `audit stage (${audit === 'on' ? 'trail and archiver' : 'trail published'})`,
    stacks: {
      subject: { audit, access: 'enforced' },
      baseline: { audit: 'off', access: 'enforced' },
      control: { audit: 'off', access: 'enforced' },
    },
  };
}

/** The rounds of one session count, by stack (round i of each measured in the same round). */
export interface AccessStageFigures {
  sessions: number;
  subject: AccessRound[];
  baseline: AccessRound[];
  control: AccessRound[];
}

export interface AccessStageResult {
  figures?: AccessStageFigures[];
  error?: string;
}

const ClockTicks = 100;

/** CPU seconds spent so far by every process in one of `groups` (process group ids) or with a pid in `pids`. */
function cpuSeconds(groups: ReadonlySet<number>, pids: ReadonlySet<number>): number | null {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces): state ppid pgrp ... utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (!groups.has(Number(fields[2])) && !pids.has(Number(entry))) continue;
      total += (Number(fields[11]) + Number(fields[12])) / ClockTicks;
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

interface Stack {
  target: RunningTarget;
  nats: SpawnedNats;
}

/** Runs one cell against `stack` and weighs the CPU its processes spent on it. */
async function round(stack: Stack, sessions: number, plan: AccessStagePlan): Promise<AccessRound> {
  const groups = new Set(stack.target.processGroups);
  const pids = new Set(stack.nats.process.pid !== undefined ? [stack.nats.process.pid] : []);
  const cell = {
    endpoint: `${stack.target.baseUrl}/servers/bench/mcp`,
    headers: stack.target.headers,
    tool: 'echo',
    sessions,
  };
  // Unmeasured calls first: the stack was idle while the other one ran.
  await runCell({ ...cell, warmupCalls: 0, durationMs: Math.min(1000, plan.durationMs) });
  const before = cpuSeconds(groups, pids);
  const figures = await runCell({ ...cell, warmupCalls: 0, durationMs: plan.durationMs });
  const after = cpuSeconds(groups, pids);
  const cpuUsPerCall =
    before === null || after === null || figures.calls === 0 ? null : ((after - before) / figures.calls) * 1e6;
  return { figures, cpuUsPerCall };
}

const Stacks: readonly AccessStack[] = ['subject', 'baseline', 'control'];

/** Starts the three stacks, each on a NATS server of its own, and warms them up. */
async function startStacks(
  children: ChildProcesses,
  plan: AccessStagePlan,
  progress: (line: string) => void,
  stacks: Map<AccessStack, Stack>,
  setup: StageSetup,
): Promise<void> {
  for (const name of Stacks) {
    const nats = await spawnNats();
    progress(`${setup.label}: starting the ${name} stdio stack`);
    const target = await startMeshgate(children, nats.url, { kind: 'stdio' }, setup.stacks[name]).catch(
      async (error: unknown) => {
        await nats.stop();
        throw error;
      },
    );
    stacks.set(name, { nats, target });
    const cell = { endpoint: `${target.baseUrl}/servers/bench/mcp`, headers: target.headers, tool: 'echo' };
    await runCell({ ...cell, sessions: 8, warmupCalls: plan.warmupCalls, durationMs: 100 });
  }
}

/**
 * Measures `plan.rounds` rotating rounds per session count, in `plan.blocks` blocks: each block starts the
 * three stacks afresh and stops them after its share of the rounds. Two processes started alike can differ
 * by several percent for as long as they live (JIT and heap layout), so rounds over one set of processes
 * would measure those processes as much as the access stage; fresh stacks per block spread that over the
 * figure, and the control shows what is left of it.
 */
export async function measureAccessStage(
  children: ChildProcesses,
  plan: AccessStagePlan,
  progress: (line: string) => void,
  setup: StageSetup = AccessStageSetup,
): Promise<AccessStageFigures[]> {
  const out: AccessStageFigures[] = plan.sessions.map((sessions) => ({ sessions, subject: [], baseline: [], control: [] }));
  const blocks = Math.max(1, Math.min(plan.blocks, plan.rounds));
  let r = 0;
  for (let block = 0; block < blocks; block++) {
    const stacks = new Map<AccessStack, Stack>();
    // Rounds spread evenly over the blocks: the first blocks take the remainder.
    const roundsHere = Math.floor(plan.rounds / blocks) + (block < plan.rounds % blocks ? 1 : 0);
    try {
      await startStacks(children, plan, progress, stacks, setup);
      for (let i = 0; i < roundsHere; i++, r++) {
        for (const figures of out) {
          progress(`${setup.label}: block ${block + 1} of ${blocks}, ${figures.sessions} session(s), round ${r + 1} of ${plan.rounds}`);
          const order = Stacks.map((_, k) => Stacks[(k + r) % Stacks.length]!);
          for (const name of order) figures[name].push(await round(stacks.get(name)!, figures.sessions, plan));
        }
      }
    } finally {
      for (const stack of stacks.values()) {
        await stack.target.stop();
        await stack.nats.stop();
      }
    }
  }
  return out;
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The per-round differences `of` - baseline of `pick` (`of` is the subject, or the control), in round order. */
export function roundDifferences(
  f: AccessStageFigures,
  pick: (r: AccessRound) => number | null,
  of: 'subject' | 'control' = 'subject',
): number[] {
  const out: number[] = [];
  f[of].forEach((on, i) => {
    const off = f.baseline[i];
    const a = pick(on);
    const b = off ? pick(off) : null;
    if (a !== null && b !== null) out.push(a - b);
  });
  return out;
}
