/**
 * The policy stage's in-process costs, from the micro-benchmarks of libs/policy run as child processes
 * (`node --import tsx libs/policy/bench/decide.ts` and `.../limits.ts`, exactly as a developer runs them)
 * and parsed from their output: µs per Cedar decision and decisions/s on one core, i.e. per router replica,
 * cached and uncached; and the limiter's µs per admission. The bench runs them while no stack is up, so
 * they have the machine's cores to themselves.
 */
import { join } from 'node:path';
import { REPO_ROOT } from './bench-targets';
import type { ChildProcesses } from './child-processes';

/** One line of decide.ts: a policy set, with or without the decision cache. */
export interface DecisionFigure {
  /** The set, e.g. `role-only set`. */
  set: string;
  cached: boolean;
  usPerDecision: number;
  decisionsPerSec: number;
}

/** One line of limits.ts: a limits configuration and what one admission (and release) costs. */
export interface AdmitFigure {
  limits: string;
  admitsPerSec: number;
  usPerAdmit: number;
  refused: number;
}

/** The figures of one micro-benchmark, or why it could not run (with the tail of the script's output). */
export interface MicroMeasurement<T> {
  figures?: T[];
  error?: string;
}

/** Both micro-benchmarks; a field is absent when its knob skipped it. */
export interface PolicyMicroResult {
  decisions?: MicroMeasurement<DecisionFigure>;
  admits?: MicroMeasurement<AdmitFigure>;
}

const DECIDE_SCRIPT = join('libs', 'policy', 'bench', 'decide.ts');
const LIMITS_SCRIPT = join('libs', 'policy', 'bench', 'limits.ts');
const RUN_TIMEOUT_MS = 300_000;

const DECIDE_LINE = /^(cached|uncached), (.+?)\s+(\d+(?:\.\d+)?) \S+\/decision\s+(\d+) decisions\/s$/;
const ADMIT_LINE = /^(.+?)\s+(\d+)\s+(\d+\.\d+)\s+(\d+)$/;

/** The figures in decide.ts's output; throws when it holds none (its format changed). */
export function parseDecideOutput(stdout: string): DecisionFigure[] {
  const figures = stdout.split('\n').flatMap((line) => {
    const m = DECIDE_LINE.exec(line.trim());
    if (!m) return [];
    return [
      {
        set: m[2] ?? '',
        cached: m[1] === 'cached',
        usPerDecision: Number(m[3]),
        decisionsPerSec: Number(m[4]),
      },
    ];
  });
  if (figures.length === 0)
    throw new Error(`no "µs/decision" line in the output of ${DECIDE_SCRIPT}: ${stdout.slice(0, 300)}`);
  return figures;
}

/** The figures in limits.ts's output; throws when it holds none (its format changed). */
export function parseLimitsOutput(stdout: string): AdmitFigure[] {
  const figures = stdout.split('\n').flatMap((line) => {
    const m = ADMIT_LINE.exec(line.trim());
    if (!m) return [];
    return [
      { limits: m[1] ?? '', admitsPerSec: Number(m[2]), usPerAdmit: Number(m[3]), refused: Number(m[4]) },
    ];
  });
  if (figures.length === 0)
    throw new Error(`no admission figures in the output of ${LIMITS_SCRIPT}: ${stdout.slice(0, 300)}`);
  return figures;
}

/** Runs `node --import tsx <script>` to its end and returns its stdout; fails on a non-zero exit or timeout. */
async function runScript(
  children: ChildProcesses,
  name: string,
  script: string,
  env: Record<string, string>,
): Promise<string> {
  const child = children.spawn(name, process.execPath, ['--import', 'tsx', join(REPO_ROOT, script)], env);
  let stdout = '';
  child.process.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  // 'close' comes after the output streams have ended, so every line has been read by then.
  const closed = new Promise<string>((resolve) => {
    child.process.once('close', (code, signal) => resolve(String(code ?? signal ?? 'unknown')));
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), RUN_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([closed, timedOut]);
    if (outcome === 'timeout')
      throw new Error(`${script}: no result within ${RUN_TIMEOUT_MS / 1000} s\n${child.tail()}`);
    if (outcome !== '0') throw new Error(`${script} exited (${outcome})\n${child.tail()}`);
    return stdout;
  } finally {
    clearTimeout(timer);
    await children.stop(child);
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Runs decide.ts: cached and uncached decisions, a role-only set and one that reads arguments, time and address. */
export async function measureDecisions(children: ChildProcesses): Promise<MicroMeasurement<DecisionFigure>> {
  try {
    return {
      figures: parseDecideOutput(await runScript(children, 'policy-decide-bench', DECIDE_SCRIPT, {})),
    };
  } catch (error) {
    return { error: message(error) };
  }
}

/** Runs limits.ts with `calls` sequential admissions per case, its KV bucket on `natsUrl`. */
export async function measureAdmits(
  children: ChildProcesses,
  natsUrl: string,
  calls: number,
): Promise<MicroMeasurement<AdmitFigure>> {
  try {
    const env = { NATS_URL: natsUrl, LIMITS_BENCH_CALLS: String(calls) };
    return {
      figures: parseLimitsOutput(await runScript(children, 'policy-limits-bench', LIMITS_SCRIPT, env)),
    };
  } catch (error) {
    return { error: message(error) };
  }
}

/** Which micro-benchmarks to run: decide.ts or not, and limits.ts's admissions per case (0 skips it). */
export interface PolicyMicroPlan {
  decide: boolean;
  limitsCalls: number;
}

/** Runs the micro-benchmarks `plan` asks for, one after the other; a failure is recorded, not thrown. */
export async function measurePolicyMicro(
  children: ChildProcesses,
  natsUrl: string,
  plan: PolicyMicroPlan,
  progress: (line: string) => void,
): Promise<PolicyMicroResult> {
  const result: PolicyMicroResult = {};
  if (plan.decide) {
    progress(`policy decisions in process (${DECIDE_SCRIPT})`);
    result.decisions = await measureDecisions(children);
    if (result.decisions.error) progress(`policy decisions FAILED: ${result.decisions.error}`);
  }
  if (plan.limitsCalls > 0) {
    progress(`limiter admissions, ${plan.limitsCalls} per case (${LIMITS_SCRIPT})`);
    result.admits = await measureAdmits(children, natsUrl, plan.limitsCalls);
    if (result.admits.error) progress(`limiter admissions FAILED: ${result.admits.error}`);
  }
  return result;
}
