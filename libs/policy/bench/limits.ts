/**
 * `node --import tsx libs/policy/bench/limits.ts`: what the limiter costs per call on one replica. For
 * each case it runs LIMITS_BENCH_CALLS admissions one after another (after a warm-up) and prints
 * admissions/s, µs per admit, and how many were refused. The KV cases spend leased units, so they show
 * the fast path with its occasional lease round trip. NATS_URL picks the server; unset, a private
 * nats-server with a fresh store is started and stopped here. Exits 1 only when a case cannot run.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import type { LimitsConfig } from '@meshgate/contracts';
import { spawnNats } from '@meshgate/testing';
import { Limiter, type LimitCall } from '../src/limits/index';

const Env = z.object({
  NATS_URL: z.string().optional(),
  LIMITS_BENCH_CALLS: z.coerce.number().int().min(1000).max(10_000_000).default(200_000),
});

interface Case {
  name: string;
  config: z.input<typeof LimitsConfig>;
  /** The call of admission i. */
  call: (i: number) => LimitCall;
}

const base: LimitCall = { tenant: 'acme', principal: 'ann', server: 'files', tool: 'read' };
const principals = Array.from({ length: 100 }, (_, i) => `agent-${i}@acme.example`);
const spread = (i: number): LimitCall => ({ ...base, principal: principals[i % principals.length] ?? 'ann' });

const cases: Case[] = [
  { name: 'no rule in force', config: { v: 1, rules: [] }, call: () => base },
  {
    name: 'rules in force, none matches',
    config: {
      v: 1,
      rules: [{ id: 'other', match: { tenant: 'globex' }, requests: { limit: 10, windowS: 1 } }],
    },
    call: () => base,
  },
  {
    name: 'requests/min, one counter',
    config: { v: 1, rules: [{ id: 'rate', requests: { limit: 10_000_000, windowS: 60 } }] },
    call: () => base,
  },
  {
    name: 'requests/min per principal (100)',
    config: {
      v: 1,
      rules: [{ id: 'rate', per: ['principal'], requests: { limit: 1_000_000, windowS: 60 } }],
    },
    call: spread,
  },
  {
    name: 'concurrent, admit + release',
    config: { v: 1, rules: [{ id: 'slots', concurrent: 64 }] },
    call: () => base,
  },
  {
    name: 'rate + daily quota + concurrent',
    config: {
      v: 1,
      rules: [
        { id: 'rate', per: ['principal'], requests: { limit: 1_000_000, windowS: 60 } },
        { id: 'quota', per: ['tenant'], dailyQuota: 100_000_000 },
        { id: 'slots', per: ['server'], concurrent: 64 },
      ],
    },
    call: spread,
  },
];

async function runCase(limiter: Limiter, c: Case, calls: number) {
  limiter.configure(c.config);
  let refused = 0;
  const pass = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const admission = await limiter.admit(c.call(i));
      if (admission.ok) admission.release();
      else refused++;
    }
  };
  await pass(Math.min(20_000, calls));
  refused = 0;
  const start = performance.now();
  await pass(calls);
  const ms = performance.now() - start;
  return { perSecond: Math.round((calls / ms) * 1000), usPerAdmit: (ms * 1000) / calls, refused };
}

async function main(): Promise<number> {
  const env = Env.parse(process.env);
  const server = env.NATS_URL ? undefined : await spawnNats();
  const nc = await connect({ servers: env.NATS_URL ?? server?.url ?? '', name: 'limits-bench' });
  const bucket = `mg_bench_limits_${randomBytes(4).toString('hex')}`;
  let failures = 0;
  try {
    const limiter = await Limiter.start(nc, { bucket, instance: 'bench', maxBytes: 16 * 1024 * 1024 });
    console.log(`limiter fast path, ${env.LIMITS_BENCH_CALLS} sequential admissions per case`);
    console.log(
      `${'case'.padEnd(34)} ${'admits/s'.padStart(12)} ${'µs/admit'.padStart(10)} ${'refused'.padStart(8)}`,
    );
    for (const c of cases) {
      try {
        const r = await runCase(limiter, c, env.LIMITS_BENCH_CALLS);
        const row = `${c.name.padEnd(34)} ${String(r.perSecond).padStart(12)} ${r.usPerAdmit.toFixed(3).padStart(10)}`;
        console.log(`${row} ${String(r.refused).padStart(8)}`);
      } catch (err) {
        failures++;
        console.log(`${c.name.padEnd(34)} FAILED: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await limiter.stop();
  } finally {
    await (await new Kvm(nc).open(bucket)).destroy().catch(() => false);
    await nc.drain();
    await server?.stop();
  }
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
