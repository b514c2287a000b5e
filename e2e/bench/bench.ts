/**
 * `npm run bench`: first the policy stage's in-process micro-benchmarks (decisions, limiter admissions);
 * then tools/call latency (p50/p99) and calls/s directly against an upstream, through mcp-proxy and through
 * Meshgate (API keys and policies enforced, as in production; once more without them, to weigh that stage),
 * at each session count; then the ingress memory per idle session. Prints one report with PASS/MISS beside
 * each target and exits 0 whatever the figures; it exits 1 only when something could not run (the failed
 * rows say why). Every child process is stopped at the end, on error and on SIGINT.
 */
import { z } from 'zod';
import { cpus, loadavg } from 'node:os';
import { ConfigError, parseEnv } from '@meshgate/config';
import { ChildProcesses } from './child-processes';
import {
  REPO_ROOT,
  startDirect,
  startMcpProxy,
  startMeshgate,
  type AccessSetting,
  type AuditSetting,
  type RunningTarget,
  type UpstreamKind,
} from './bench-targets';
import { runCell } from './closed-loop';
import { measureIdleMemory } from './idle-memory';
import { EVENTS_PER_CALL, peakCallsPerSec, renderReport, TARGETS, type AuditStageResults, type CellResult, type IdleResult, type IngestResult } from './report-table';
import { measureAuditIngest } from './audit-ingest';
import { measurePolicyMicro, type PolicyMicroResult } from './policy-micro';
import { auditStageSetup, measureAccessStage, type AccessStageResult } from './access-stage';
import { spawnNats } from '@meshgate/testing';

/** Everything one run measured. */
interface Measured {
  cells: CellResult[];
  idle: IdleResult[];
  policy: PolicyMicroResult;
  access: AccessStageResult;
  auditStages: AuditStageResults;
  ingest?: IngestResult;
}

const SessionCounts = z
  .string()
  .transform((s) => s.split(',').map((p) => Number(p.trim())))
  .pipe(z.array(z.number().int().min(1).max(1000)).min(1));

/** The benchmark's knobs, read once from the environment. */
const BenchEnv = z.object({
  /** The NATS of the Meshgate stacks; unset: a private nats-server with a fresh store, started here. */
  NATS_URL: z.string().optional(),
  /** The audit trail of the main Meshgate rows (`off`, as the services default). */
  BENCH_AUDIT: z.enum(['on', 'publish', 'off']).default('off'),
  /** 0 skips the audit rows: the stdio stack again with the trail published only, and with its archiver. */
  BENCH_AUDIT_ROWS: z.coerce.number().int().min(0).max(1).default(1),
  /** Rotating rounds of the access-stage phase (enforced, open and control stdio stacks side by side); 0 skips it. */
  BENCH_ACCESS_ROUNDS: z.coerce.number().int().min(0).max(60).default(12),
  /** Rotating rounds of each audit-stage phase (trail published, trail and archiver, each against the trail off, at 1 session); 0 skips them. */
  BENCH_AUDIT_ROUNDS: z.coerce.number().int().min(0).max(60).default(8),
  /** How many times the access-stage phase starts its three stacks afresh (its rounds spread over them). */
  BENCH_ACCESS_BLOCKS: z.coerce.number().int().min(1).max(20).default(4),
  /** Measured window of one access-stage round per stack. */
  BENCH_ACCESS_MS: z.coerce.number().int().min(200).max(60_000).default(1500),
  /** 0 skips the in-process decision micro-benchmark (libs/policy/bench/decide.ts). */
  BENCH_DECIDE: z.coerce.number().int().min(0).max(1).default(1),
  /** Sequential admissions per case of the limiter micro-benchmark (libs/policy/bench/limits.ts); 0 skips it. */
  BENCH_LIMITS_CALLS: z.coerce.number().int().min(0).max(10_000_000).refine((n) => n === 0 || n >= 1000, 'must be 0 or >= 1000').default(200_000),
  /** tools/calls (four events each) in the audit ingest backlog; 0 skips the ingest measurement. */
  BENCH_INGEST_CALLS: z.coerce.number().int().min(0).max(1_000_000).default(50_000),
  BENCH_DURATION_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  BENCH_WARMUP_CALLS: z.coerce.number().int().min(0).max(1_000_000).default(3000),
  BENCH_SESSIONS: SessionCounts.default([1, 32]),
  BENCH_IDLE_SESSIONS: z.coerce.number().int().min(0).max(100_000).default(5000),
});
type BenchEnv = z.infer<typeof BenchEnv>;

const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Runs every phase, collecting rows; a phase that fails to start or run leaves FAILED rows behind. */
async function runPhases(env: BenchEnv, natsUrl: string, children: ChildProcesses): Promise<Measured> {
  const cells: CellResult[] = [];
  const idle: IdleResult[] = [];
  let ingest: IngestResult | undefined;
  let access: AccessStageResult = {};
  const auditStages: AuditStageResults = { publish: {}, on: {} };
  // Before any stack runs, so that the micro-benchmarks have the cores to themselves.
  const policy = await measurePolicyMicro(children, natsUrl, { decide: env.BENCH_DECIDE > 0, limitsCalls: env.BENCH_LIMITS_CALLS }, progress);

  const measure = async (
    kind: CellResult['kind'],
    target: string,
    endpoint: string,
    headers: Record<string, string>,
    tool: string,
  ): Promise<void> => {
    for (const sessions of env.BENCH_SESSIONS) {
      progress(`${target}: ${sessions} session(s), ${env.BENCH_WARMUP_CALLS} warm-up calls, ${env.BENCH_DURATION_MS} ms`);
      try {
        const plan = { endpoint, headers, tool, sessions, warmupCalls: env.BENCH_WARMUP_CALLS, durationMs: env.BENCH_DURATION_MS };
        cells.push({ kind, target, sessions, figures: await runCell(plan) });
      } catch (error) {
        progress(`${target}: ${sessions} session(s) FAILED: ${message(error)}`);
        cells.push({ kind, target, sessions, error: message(error).split('\n')[0] ?? 'failed' });
      }
    }
  };

  const phase = async (
    failedRows: { kind: CellResult['kind']; target: string }[],
    start: () => Promise<RunningTarget>,
    use: (t: RunningTarget) => Promise<void>,
  ): Promise<void> => {
    let target: RunningTarget;
    try {
      target = await start();
    } catch (error) {
      progress(`could not start ${failedRows.map((r) => r.target).join(', ')}:\n${message(error)}`);
      const reason = `did not start: ${message(error).split('\n')[0] ?? ''}`;
      for (const row of failedRows) for (const sessions of env.BENCH_SESSIONS) cells.push({ ...row, sessions, error: reason });
      return;
    }
    try {
      await use(target);
    } finally {
      await target.stop();
    }
  };

  const idlePhase = async (kind: IdleResult['kind'], target: string, start: () => Promise<RunningTarget>, path: string): Promise<void> => {
    progress(`${target}: ${env.BENCH_IDLE_SESSIONS} idle sessions`);
    try {
      const running = await start();
      try {
        const memory = await measureIdleMemory(running.child.pid, running.baseUrl + path, running.headers, 'echo', env.BENCH_IDLE_SESSIONS);
        idle.push({ kind, target, sessions: env.BENCH_IDLE_SESSIONS, memory });
      } finally {
        await running.stop();
      }
    } catch (error) {
      progress(`${target} FAILED: ${message(error)}`);
      idle.push({ kind, target, sessions: env.BENCH_IDLE_SESSIONS, error: message(error).split('\n')[0] ?? 'failed' });
    }
  };

  progress('starting the echo upstream (Streamable HTTP)');
  const direct = await startDirect(children);
  try {
    await measure('direct', 'direct-http', `${direct.baseUrl}/mcp`, direct.headers, 'echo');
    const mg =
      (upstream: UpstreamKind, audit: AuditSetting = env.BENCH_AUDIT, access: AccessSetting = 'enforced') =>
      () =>
        startMeshgate(children, natsUrl, upstream, { audit, access });
    const httpUpstream: UpstreamKind = { kind: 'http', url: `${direct.baseUrl}/mcp` };

    progress('starting mcp-proxy (stdio upstream)');
    await phase([{ kind: 'mcp-proxy', target: 'mcp-proxy' }], () => startMcpProxy(children), async (t) => {
      await measure('mcp-proxy', 'mcp-proxy', `${t.baseUrl}/mcp`, t.headers, 'echo');
    });

    progress('starting Meshgate (http upstream)');
    const perServer = 'meshgate http /servers/bench/mcp';
    const federated = 'meshgate http /mcp';
    const httpRows = [perServer, federated].map((target) => ({ kind: 'meshgate' as const, target }));
    await phase(httpRows, mg(httpUpstream), async (t) => {
      await measure('meshgate', perServer, `${t.baseUrl}/servers/bench/mcp`, t.headers, 'echo');
      await measure('meshgate', federated, `${t.baseUrl}/mcp`, t.headers, 'bench__echo');
    });

    progress('starting Meshgate (stdio upstream)');
    const stdioRow = 'meshgate stdio /servers/bench/mcp';
    await phase([{ kind: 'meshgate', target: stdioRow }], mg({ kind: 'stdio' }), async (t) => {
      await measure('meshgate', stdioRow, `${t.baseUrl}/servers/bench/mcp`, t.headers, 'echo');
    });
    if (env.BENCH_AUDIT_ROWS > 0) {
      for (const [audit, label] of [
        ['publish', 'trail published, no archiver'],
        ['on', 'trail and archiver'],
      ] as const) {
        progress(`starting Meshgate (stdio upstream, audit ${label})`);
        const row = `${stdioRow}, ${label}`;
        const kind = audit === 'on' ? 'meshgate-trail-on' : 'meshgate-trail-publish';
        await phase([{ kind, target: row }], mg({ kind: 'stdio' }, audit), async (t) => {
          await measure(kind, row, `${t.baseUrl}/servers/bench/mcp`, t.headers, 'echo');
        });
      }
    }
    if (env.BENCH_ACCESS_ROUNDS > 0) {
      // Its own NATS servers: the three stacks run at once, measured in rotating rounds (access-stage.ts).
      try {
        const plan = { sessions: env.BENCH_SESSIONS, rounds: env.BENCH_ACCESS_ROUNDS, blocks: env.BENCH_ACCESS_BLOCKS, durationMs: env.BENCH_ACCESS_MS, warmupCalls: env.BENCH_WARMUP_CALLS };
        access = { figures: await measureAccessStage(children, plan, progress) };
      } catch (error) {
        progress(`access stage FAILED: ${message(error)}`);
        access = { error: message(error).split('\n')[0] ?? 'failed' };
      }
    }
    if (env.BENCH_AUDIT_ROUNDS > 0) {
      // As the access stage: three stacks side by side in rotating rounds, so the trail's cost is measured
      // against the noise floor of this machine rather than read off two rows minutes apart.
      for (const audit of ['publish', 'on'] as const) {
        try {
          const plan = { sessions: [1], rounds: env.BENCH_AUDIT_ROUNDS, blocks: Math.min(2, env.BENCH_AUDIT_ROUNDS), durationMs: env.BENCH_ACCESS_MS, warmupCalls: env.BENCH_WARMUP_CALLS };
          auditStages[audit] = { figures: await measureAccessStage(children, plan, progress, auditStageSetup(audit)) };
        } catch (error) {
          progress(`audit stage (${audit}) FAILED: ${message(error)}`);
          auditStages[audit] = { error: message(error).split('\n')[0] ?? 'failed' };
        }
      }
    }
    if (env.BENCH_IDLE_SESSIONS > 0) {
      await idlePhase('meshgate', 'meshgate ingress', mg(httpUpstream), '/servers/bench/mcp');
      await idlePhase('mcp-proxy', 'mcp-proxy (reference)', () => startMcpProxy(children), '/mcp');
    }
    if (env.BENCH_INGEST_CALLS > 0) {
      progress(`audit ingest: ${env.BENCH_INGEST_CALLS * EVENTS_PER_CALL} events, one audit replica, embedded store`);
      try {
        // The rate one archiver must keep up with: five times the highest calls/s of any Meshgate row.
        ingest = { figures: await measureAuditIngest(children, env.BENCH_INGEST_CALLS, TARGETS.ingestPeakMultiple * peakCallsPerSec(cells)) };
      } catch (error) {
        progress(`audit ingest FAILED: ${message(error)}`);
        ingest = { error: message(error).split('\n')[0] ?? 'failed' };
      }
    }
  } finally {
    await direct.stop();
  }
  return { cells, idle, policy, access, auditStages, ...(ingest ? { ingest } : {}) };
}

async function main(): Promise<number> {
  let env: BenchEnv;
  try {
    env = parseEnv(BenchEnv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const children = new ChildProcesses(REPO_ROOT);
  process.once('exit', () => children.killAllNow());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping every child`);
      void children.stopAll().finally(() => process.exit(130));
    });
  }
  const loadAtStart = loadavg()[0] ?? 0;
  try {
    const nats = env.NATS_URL === undefined ? await spawnNats() : undefined;
    const natsUrl = env.NATS_URL ?? nats!.url;
    let measured: Measured;
    try {
      measured = await runPhases(env, natsUrl, children);
    } finally {
      await nats?.stop();
    }
    const { cells, idle, policy, access, auditStages, ingest } = measured;
    const cpu = cpus();
    const header = [
      `Meshgate benchmark ${new Date().toISOString()}  node ${process.version}  ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}`,
      `tools/call on a one-tool echo upstream; ${env.BENCH_WARMUP_CALLS} warm-up calls then ${env.BENCH_DURATION_MS} ms per cell; audit trail ${env.BENCH_AUDIT}; NATS ${env.NATS_URL ?? `private (${natsUrl})`}`,
      'Meshgate rows: API key required (agent bench-agent) and Cedar policies enforced (bundled default set), unless the row says otherwise',
      `load average (1 min) at start ${loadAtStart.toFixed(2)}, at end ${(loadavg()[0] ?? 0).toFixed(2)}: other work on the machine skews every row`,
    ].join('\n');
    process.stdout.write(`${renderReport({ header, cells, idle, policy, access, auditStages, ingest })}\n`);
    const failed =
      cells.some((c) => c.error !== undefined) ||
      idle.some((i) => i.error !== undefined) ||
      ingest?.error !== undefined ||
      access.error !== undefined ||
      auditStages.publish.error !== undefined ||
      auditStages.on.error !== undefined ||
      policy.decisions?.error !== undefined ||
      policy.admits?.error !== undefined;
    return failed ? 1 : 0;
  } catch (error) {
    progress(`FAILED: ${message(error)}`);
    return 1;
  } finally {
    await children.stopAll();
  }
}

process.exitCode = await main();
