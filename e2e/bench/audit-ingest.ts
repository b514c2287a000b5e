/**
 * Audit ingest: how many events per second one audit service replica archives on the embedded store. On a
 * private nats-server with a fresh store, a backlog of realistic events (the four events of a tools/call,
 * arguments as digest and redacted copy) is published to `MG_AUDIT` first, in the messages the services'
 * publishers would send at the rate the archiver must keep up with (five times the peak): a publisher
 * groups the events of one tenant and kind accepted within its linger period (the default, 50 ms) into one
 * message, so at R calls/s a message carries about R x 0.05 events of a kind (at most 256). Then one audit service process
 * (`services/audit/src/main.ts`) starts and drains it. The rate is taken from its archived-events counter
 * (`/metrics`), sampled every 100 ms, between the first sample with progress and the one where every event
 * is archived, so process start-up is not counted. The archive is then verified (chain and count).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { DefaultTenant, MAX_BATCH_EVENTS, type AuditEvent } from '@meshgate/contracts';
import { AuditPublisherOptions, auditArguments, ensureAuditStream, newAuditEvent, outgoingMessages } from '@meshgate/audit';
import { freePort, spawnNats } from '@meshgate/testing';
import { waitForHttp200, type ChildProcesses } from './child-processes';
import { REPO_ROOT, SERVICE_NODE_ARGS } from './bench-targets';

/** What one ingest run measured. */
export interface IngestFigures {
  /** Events of one kind per message in the backlog, and the calls/s that batch size stands for. */
  eventsPerMessage: number;
  forCallsPerSec: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
  /** The chain verified and held exactly `events` records afterwards. */
  verified: boolean;
}

const PUBLISH_WINDOW = 512;
const SAMPLE_MS = 100;
const DRAIN_TIMEOUT_MS = 300_000;

/** The events of `calls` tools/calls, four each, as ingress and router publish them (policies enforced). */
function callEvents(calls: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let n = 0; n < calls; n++) {
    const traceId = n.toString(16).padStart(32, '0');
    const common = {
      tenant: DefaultTenant,
      principal: 'bench-agent',
      session: `bench-session-${n % 32}`,
      traceId,
      instance: 'bench',
      method: 'tools/call',
      requestId: String(n),
      server: 'bench',
      target: 'echo',
    } as const;
    const args = auditArguments({ text: `call ${n}`, apiKey: 'sk-not-a-real-key', limit: n });
    events.push(
      newAuditEvent({ ...common, service: 'ingress', kind: 'request-received', arguments: args }),
      newAuditEvent({
        ...common,
        service: 'router',
        kind: 'policy-decision',
        effect: 'allow',
        policies: ['platform/agents-use-everything'],
        reason: 'permitted by policy',
      }),
      newAuditEvent({ ...common, service: 'router', kind: 'upstream-call', latencyMs: 0.4, sizeBytes: 120, outcome: 'ok' }),
      newAuditEvent({ ...common, service: 'ingress', kind: 'response-sent', latencyMs: 0.9, sizeBytes: 120, outcome: 'ok' }),
    );
  }
  return events;
}

/** Events archived so far by the replica at `port` (its Prometheus counter), or null before it answers. */
async function archivedSoFar(port: number): Promise<number | null> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => (r.ok ? r.text() : null), () => null);
  const m = text ? /^meshgate_audit_events_archived_total (\d+)/m.exec(text) : null;
  return m ? Number(m[1]) : null;
}

/**
 * The backlog's messages: per linger period, the events of `perMessage` calls, one message per kind (the
 * publishers' own grouping, outgoing.ts).
 */
function backlog(events: AuditEvent[], perMessage: number): { subject: string; msgId: string; line: string }[] {
  const periodEvents = perMessage * 4;
  const out = [];
  for (let i = 0; i < events.length; i += periodEvents) out.push(...outgoingMessages(events.slice(i, i + periodEvents), 256 * 1024));
  return out;
}

/**
 * Publishes `calls` x 4 events in the messages publishers send at `callsPerSec`, then starts one audit replica
 * and measures how fast it archives them.
 */
export async function measureAuditIngest(children: ChildProcesses, calls: number, callsPerSec: number): Promise<IngestFigures> {
  const lingerMs = AuditPublisherOptions.parse({ spoolDir: '-' }).lingerMs;
  const perMessage = Math.max(1, Math.min(MAX_BATCH_EVENTS, Math.round((callsPerSec * lingerMs) / 1000)));
  const nats = await spawnNats();
  const dataDir = mkdtempSync(join(tmpdir(), 'mg-bench-audit-'));
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureAuditStream(jsm);
    const js = jetstream(nc);
    const events = callEvents(calls);
    const messages = backlog(events, perMessage);
    for (let i = 0; i < messages.length; i += PUBLISH_WINDOW) {
      await Promise.all(messages.slice(i, i + PUBLISH_WINDOW).map((m) => js.publish(m.subject, m.line, { msgID: m.msgId })));
    }
    const port = await freePort();
    const main = join(REPO_ROOT, 'services', 'audit', 'src', 'main.ts');
    const child = children.spawn('meshgate-audit-ingest', process.execPath, [...SERVICE_NODE_ARGS, '--import', 'tsx', main], {
      NATS_URL: nats.url,
      LOG_LEVEL: 'warn',
      AUDIT_PORT: String(port),
      MESHGATE_AUDIT_DATA_DIR: dataDir,
      MESHGATE_AUDIT_AUTH: 'none',
    });
    try {
      let first: { acked: number; at: number } | null = null;
      let last = { acked: 0, at: 0 };
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`the audit service did not archive ${events.length} events within ${DRAIN_TIMEOUT_MS / 1000} s`);
        if (child.process.exitCode !== null) throw new Error(`the audit service exited:\n${child.tail()}`);
        const archived = await archivedSoFar(port);
        const at = performance.now();
        if (archived !== null && archived > 0) {
          first ??= { acked: archived, at };
          last = { acked: archived, at };
          if (archived >= events.length) break;
        }
        await new Promise((r) => setTimeout(r, SAMPLE_MS));
      }
      const seconds = (last.at - first.at) / 1000;
      const counted = last.acked - first.acked;
      await waitForHttp200(child, `http://127.0.0.1:${port}/readyz`);
      const report = (await (await fetch(`http://127.0.0.1:${port}/v1/audit/verify?tenant=${DefaultTenant}`)).json()) as {
        ok?: boolean;
        checked?: number;
      };
      return {
        eventsPerMessage: perMessage,
        forCallsPerSec: callsPerSec,
        events: counted,
        seconds,
        eventsPerSec: seconds > 0 ? counted / seconds : 0,
        verified: report.ok === true && report.checked === events.length,
      };
    } finally {
      await children.stop(child);
    }
  } finally {
    await nc.close();
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
