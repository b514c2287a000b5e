/**
 * The audit chaos test (issue 5, point 8): 10,000 tools/call through the real launchers of registry, the
 * policy service (policies enforced: each call also leaves its policy decision), router, ingress and the
 * audit service, with the trail on (default mode, fail-open), on a nats-server of the test's
 * own, while the audit service is killed with SIGKILL at 20 % and 50 % of the calls (a new one is started
 * each time) and NATS is killed with SIGKILL and started again on the same port and store at 75 %. Eight
 * sessions send their own W3C traceparent with every call (ingress keeps its trace id) and record what they
 * saw. Afterwards, once the archiver has no lag and every publisher's spool is empty, the tenant's archive
 * must hold exactly the steps the callers' view requires, none twice, and its hash chain must verify.
 *
 * The whole file runs within one time budget: each wait takes at most what is left of it, less what the
 * later steps need. The tests run in order and share the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditVerifyReply, AuditVerifySubject } from '@meshgate/audit-service';
import { Bus } from '@meshgate/bus';
import { DefaultTenant, type AuditEvent } from '@meshgate/contracts';
import { JsAuditArchive } from '@meshgate/store';
import { featureServerStdioCommand, freePort, tcpAnswers } from '@meshgate/testing';
import {
  ChaosPlan,
  ChaosSession,
  judgeArchive,
  metricValue,
  runCalls,
  spoolSegments,
  textTable,
  type ArchiveReport,
  type CallRecord,
} from '../src/chaos';
import {
  httpOk,
  outputs,
  spawnAuditService,
  spawnNatsServer,
  spawnService,
  stopAll,
  waitReady,
  type ManagedProcess,
} from '../src/processes';

const TOTAL_CALLS = 10_000;
const SESSIONS = 8;
/** Everything from the first spawn to the last assertion; teardown takes at most ~8 s more. */
const BUDGET_MS = 170_000;
/** Kept back from the drain wait for reading the archive and verifying the chain. */
const READ_AND_VERIFY_MS = 45_000;
/** Kept back from the verification for teardown. */
const TEARDOWN_MS = 3_000;
const READY_MS = 30_000;
/**
 * Ingress's call deadline. A call in flight when NATS dies waits for it: its request or reply died with the
 * server. 5 s keeps that wait short; a call on a working gateway takes milliseconds.
 */
const REQUEST_TIMEOUT_MS = 5_000;
/** The callers' own bound on one call; ingress answers first. */
const CALL_TIMEOUT_MS = 15_000;

let deadline = Date.now() + BUDGET_MS;
let dir: string;
let env: Record<string, string>;
let natsPort: number;
let nats: ManagedProcess | undefined;
let auditPort: number;
let audit: ManagedProcess;
let ingressUrl: string;
let bus: Bus | undefined;
const services: ManagedProcess[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: SESSIONS });
const sessions: ChaosSession[] = [];
let calls: CallRecord[] = [];
let report: ArchiveReport | undefined;
let verified: AuditVerifyReply | undefined;
const facts: [string, string][] = [];
/** Epoch ms of what happened. */
const moments: Record<string, number> = {};

const spoolDir = (label: string) => join(dir, 'spool', label);
const auditUrl = () => `http://127.0.0.1:${auditPort}`;
/** Milliseconds left of the budget once `reserveMs` is kept back. */
const left = (reserveMs: number) => deadline - reserveMs - Date.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function startNats(label: string): Promise<void> {
  const proc = spawnNatsServer(natsPort, join(dir, 'nats'), label);
  nats = proc;
  await waitReady(proc, () => tcpAnswers('127.0.0.1', natsPort, 200), 10_000, 'listening');
}

/** Starts audit replica `n`: the same data dir (so the same signing key), a spool of its own. */
async function startAudit(n: number): Promise<void> {
  const label = `audit-${n}`;
  audit = spawnAuditService(
    {
      ...env,
      INSTANCE_ID: label,
      AUDIT_PORT: String(auditPort),
      MESHGATE_AUDIT_DATA_DIR: join(dir, 'audit'),
      MESHGATE_AUDIT_SPOOL_DIR: spoolDir(label),
    },
    label,
  );
  services.push(audit);
  await waitReady(audit, () => httpOk(`${auditUrl()}/readyz`), READY_MS);
}

async function killAudit(n: number): Promise<void> {
  moments[`kill -9 audit-${n}`] = Date.now();
  await audit.kill9();
  await startAudit(n + 1);
  moments[`audit-${n + 1} ready`] = Date.now();
}

async function restartNats(): Promise<void> {
  moments['kill -9 nats'] = Date.now();
  await nats?.kill9();
  await startNats('nats-2');
  moments['nats-2 listening'] = Date.now();
}

async function text(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return res.text();
}

/** Polls `check` every 500 ms until it returns true; throws with its last answer after `timeoutMs`. */
async function pollUntil(
  check: () => Promise<true | string>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const state = await check().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (state === true) return;
    if (Date.now() > end) {
      const procs = nats ? [...services, nats] : services;
      throw new Error(`${what} not reached within ${timeoutMs} ms: ${state}\n${outputs(procs)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Every record of `tenant`, in seq order. */
async function readArchive(archive: JsAuditArchive, tenant: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (;;) {
    const page = await archive.records(tenant, events.length + 1, 1000);
    events.push(...page.map((r) => r.event));
    if (page.length < 1000) return events;
  }
}

/** A list as an assertion shows it: how many, and the first few. */
const listed = (items: readonly string[]) => ({ count: items.length, first: items.slice(0, 20) });

/** `{"key": count}` of `items`, as one line. */
function countBy<T>(items: readonly T[], key: (item: T) => string): string {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return JSON.stringify(counts);
}

function summary(): string {
  const ok = calls.filter((c) => c.outcome === 'ok').length;
  const start = moments['first spawn'];
  const at = (name: string) => {
    const when = moments[name];
    return when === undefined || start === undefined ? 'did not happen' : seconds(when - start);
  };
  const r = report;
  return textTable([
    ['calls made / ok / failed', `${calls.length} / ${ok} / ${calls.length - ok}`],
    [
      'events required / archived',
      r ? `${r.required} / ${r.archived} (+${r.optionalFound} optional)` : 'not read',
    ],
    ['duplicate ids / steps', r ? `${r.duplicateIds.length} / ${r.duplicateSteps.length}` : '-'],
    [
      'missing / unexpected / mismatched',
      r ? `${r.missing.length} / ${r.unexpected.length} / ${r.mismatched.length}` : '-',
    ],
    [
      'chain',
      verified
        ? `ok=${verified.ok} checked=${verified.checked} findings=${verified.findings.length}`
        : 'not verified',
    ],
    ...Object.keys(moments)
      .sort((a, b) => (moments[a] as number) - (moments[b] as number))
      .map((name): [string, string] => [`${name} at`, at(name)]),
    ...facts,
  ]);
}

beforeAll(async () => {
  deadline = Date.now() + BUDGET_MS;
  moments['first spawn'] = Date.now();
  dir = mkdtempSync(join(tmpdir(), 'mg-audit-chaos-'));
  [natsPort, auditPort] = await Promise.all([freePort(), freePort()]);
  await startNats('nats-1');
  writeFileSync(
    join(dir, 'meshgate.json'),
    JSON.stringify({ mcpServers: { fx: featureServerStdioCommand() } }),
  );
  env = {
    NATS_URL: `nats://127.0.0.1:${natsPort}`,
    LOG_LEVEL: 'warn',
    MESHGATE_CONFIG: join(dir, 'meshgate.json'),
    MESHGATE_AUDIT: 'on',
    MESHGATE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    // Policies enforced (the policy service runs and is killed with NATS); agents unauthenticated.
    MESHGATE_AUTH: 'none',
  };
  const [registryPort, ingressPort] = await Promise.all([freePort(), freePort()]);
  ingressUrl = `http://127.0.0.1:${ingressPort}`;
  const registry = spawnService('registry', { ...env, REGISTRY_PORT: String(registryPort) });
  const policyPort = await freePort();
  const policy = spawnService('policy', { ...env, MESHGATE_POLICY_PORT: String(policyPort) });
  await waitReady(policy, () => httpOk(`http://127.0.0.1:${policyPort}/readyz`), READY_MS);
  const router = spawnService(
    'router',
    { ...env, INSTANCE_ID: 'router-a', MESHGATE_AUDIT_SPOOL_DIR: spoolDir('router') },
    'router-a',
  );
  const ingress = spawnService(
    'ingress',
    {
      ...env,
      PORT: String(ingressPort),
      INSTANCE_ID: 'ingress-a',
      MESHGATE_AUDIT_SPOOL_DIR: spoolDir('ingress'),
    },
    'ingress-a',
  );
  services.push(registry, policy, router, ingress);
  try {
    await Promise.all([
      waitReady(registry, () => httpOk(`http://127.0.0.1:${registryPort}/readyz`), READY_MS),
      startAudit(1),
      waitReady(ingress, () => httpOk(`${ingressUrl}/readyz`), READY_MS),
    ]);
    for (let i = 0; i < SESSIONS; i++)
      sessions.push(await ChaosSession.open(new URL(`${ingressUrl}/mcp`), agent, CALL_TIMEOUT_MS));
  } catch (err) {
    const procs = nats ? [...services, nats] : services;
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${outputs(procs)}`);
  }
  moments['gateway ready'] = Date.now();
}, 60_000);

afterAll(async () => {
  console.log(`audit chaos test: ${TOTAL_CALLS} tools/call over ${SESSIONS} sessions\n${summary()}`);
  agent.destroy();
  await bus?.close();
  await stopAll(services);
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the audit trail through two kill -9 of the archiver and a kill -9 of NATS', () => {
  it(
    'makes 10,000 calls while the audit service dies twice and NATS once; calls fail only in the outage',
    async () => {
      const plan = new ChaosPlan(TOTAL_CALLS, [
        { at: 0.2, name: 'kill -9 audit-1', run: () => killAudit(1) },
        { at: 0.5, name: 'kill -9 audit-2', run: () => killAudit(2) },
        { at: 0.75, name: 'kill -9 nats', run: restartNats },
      ]);
      moments['run start'] = Date.now();
      const runDeadline = deadline - READ_AND_VERIFY_MS - 15_000;
      calls = await runCalls(sessions, TOTAL_CALLS, plan, runDeadline, (session, i) =>
        session.callTool('fx__echo', `call ${i}`),
      );
      moments['run end'] = Date.now();
      await plan.finished();
      expect(calls, 'calls made before the run deadline').toHaveLength(TOTAL_CALLS);
      const downAt = moments['kill -9 nats'] as number;
      const upAt = moments['nats-2 listening'] as number;
      // Back once a call that started after NATS listened again has succeeded.
      const backAt = Math.min(
        ...calls.filter((c) => c.outcome === 'ok' && c.startedAt >= upAt).map((c) => c.endedAt),
      );
      expect(Number.isFinite(backAt), 'a call succeeded after NATS came back').toBe(true);
      moments['first call ok after the restart'] = backAt;
      const failed = calls.filter((c) => c.outcome !== 'ok');
      facts.push(['failures as seen', countBy(failed, (c) => `${c.outcome} ${c.code ?? ''}`.trim())]);
      const outside = failed.filter((c) => c.endedAt < downAt || c.startedAt > backAt);
      expect(listed(outside.map((c) => `${c.traceId} ${c.outcome} ${c.detail ?? ''}`))).toEqual(listed([]));
    },
    BUDGET_MS,
  );

  it(
    'archives exactly the steps the callers saw, each once, after the archiver and the spools caught up',
    async () => {
      expect(calls, 'the run').toHaveLength(TOTAL_CALLS);
      const drainStart = Date.now();
      await pollUntil(
        async () => {
          const lag = metricValue(await text(`${auditUrl()}/metrics`), 'meshgate_audit_consumer_lag');
          const trail = (JSON.parse(await text(`${ingressUrl}/readyz`)) as { audit?: string }).audit;
          const segments = ['router', 'ingress', 'audit-1', 'audit-2', 'audit-3'].map((l) =>
            spoolSegments(spoolDir(l)),
          );
          if (lag === 0 && trail === 'publishing' && segments.every((n) => n === 0)) return true;
          return `consumer lag ${lag}, ingress trail ${trail}, spool segments router/ingress/audit-1..3 ${segments.join('/')}`;
        },
        left(READ_AND_VERIFY_MS),
        'an archiver without lag and empty spools',
      );
      moments['drained'] = Date.now();
      facts.push(['drain after the run', seconds(Date.now() - drainStart)]);
      bus = await Bus.connect({ url: env['NATS_URL'] as string, name: 'audit-chaos-test' });
      const readStart = Date.now();
      const events = await readArchive(await JsAuditArchive.open(bus.nc), DefaultTenant);
      facts.push(['archive read', seconds(Date.now() - readStart)]);
      report = judgeArchive([...sessions.map((s) => s.opened), ...calls], events);
      const auditMetrics = await text(`${auditUrl()}/metrics`);
      const auditCount = (name: string) => metricValue(auditMetrics, `meshgate_audit_${name}_total`);
      const metrics = await text(`${ingressUrl}/metrics`);
      const ingressCount = (name: string) =>
        metricValue(metrics, `meshgate_ingress_audit_events_${name}_total`);
      facts.push(
        [
          'ingress events published / spooled / dropped',
          `${ingressCount('published')} / ${ingressCount('spooled')} / ${ingressCount('dropped')}`,
        ],
        ['archived by service', countBy(events, (e) => e.service)],
        [
          'audit-3 archived / redelivered duplicates',
          `${auditCount('events_archived')} / ${auditCount('duplicates')}`,
        ],
      );
      expect(listed(report.duplicateIds), 'duplicate event ids').toEqual(listed([]));
      expect(listed(report.duplicateSteps), 'steps archived twice').toEqual(listed([]));
      expect(listed(report.missing), 'steps missing').toEqual(listed([]));
      expect(listed(report.unexpected), 'events of no request').toEqual(listed([]));
      expect(listed(report.mismatched), 'events disagreeing with the caller').toEqual(listed([]));
      expect(report.archived).toBe(report.required + report.optionalFound);
      // Ingress reports what it published; the router has no metrics endpoint, so its part is judged above.
      expect(ingressCount('dropped')).toBe(0);
      expect(events.filter((e) => e.service === 'ingress').length).toBe(ingressCount('published'));
    },
    BUDGET_MS,
  );

  it(
    "keeps the tenant's hash chain intact: verify checks every archived event and finds nothing",
    async () => {
      expect(report, 'the archive was read').toBeDefined();
      const started = Date.now();
      try {
        verified = await bus!.request(AuditVerifySubject, { tenant: DefaultTenant }, AuditVerifyReply, {
          timeoutMs: Math.max(1_000, left(TEARDOWN_MS)),
        });
      } finally {
        facts.push(['verify took', seconds(Date.now() - started)]);
      }
      expect(verified.findings).toEqual([]);
      expect(verified.ok).toBe(true);
      expect(verified.checked).toBe(report!.archived);
    },
    BUDGET_MS,
  );
});
