/**
 * The audit chaos test's callers and judge (issue 5, point 8). Callers are MCP sessions over raw keep-alive
 * HTTP (no SDK client, so that thousands of calls stay cheap) that send a W3C `traceparent` of their own with
 * every request and record what they saw: a result, a JSON-RPC error or no answer at all. A plan fires the
 * chaos steps (kills, restarts) when the calls reach given fractions of the run. The judge is pure: it holds
 * the archived events against the callers' records and names every duplicate, missing or unexpected step.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Agent } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEvent } from '@meshgate/contracts';
import { messagesOf, postJsonRpc, type HttpAnswer } from './mcp-post';

/** What a caller saw: a result, a JSON-RPC error written by the gateway, or no answer (transport failure). */
export type SeenOutcome = 'ok' | 'rpc-error' | 'no-answer';

/** One request as its caller saw it. */
export interface CallRecord {
  method: 'initialize' | 'tools/call';
  traceId: string;
  /** The session the request belongs to (for initialize: the one it opened, when it did). */
  session: string | undefined;
  requestId: number;
  outcome: SeenOutcome;
  /** The JSON-RPC error code of an `rpc-error`. */
  code?: number;
  /** Status line and a clipped body, or the transport error: for failure messages. */
  detail?: string;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
}

/** A fresh W3C trace id: 32 lowercase hex digits, never all zeros. */
export function newTraceId(): string {
  return randomUUID().replaceAll('-', '');
}

type Seen = Pick<CallRecord, 'outcome' | 'code' | 'detail'> & { result?: unknown };

/** What an HTTP answer tells the caller about request `id`. */
function seenIn(answer: HttpAnswer, id: number): Seen {
  const detail = `HTTP ${answer.status} ${answer.body.slice(0, 200)}`;
  let response: Record<string, unknown> | undefined;
  try {
    response = messagesOf(answer).find(
      (m): m is Record<string, unknown> => typeof m === 'object' && m !== null && 'id' in m && m.id === id,
    );
  } catch {
    return { outcome: 'no-answer', detail };
  }
  if (!response) return { outcome: 'no-answer', detail };
  const error = response['error'] as { code?: unknown } | undefined;
  if (error !== undefined)
    return { outcome: 'rpc-error', detail, ...(typeof error.code === 'number' ? { code: error.code } : {}) };
  if (answer.status !== 200) return { outcome: 'no-answer', detail };
  return { outcome: 'ok', result: response['result'] };
}

/** One MCP session on the federated endpoint whose every request carries a new trace id. */
export class ChaosSession {
  private nextId = 2;

  private constructor(
    private readonly url: URL,
    private readonly agent: Agent,
    private readonly headers: Record<string, string>,
    private readonly timeoutMs: number,
    /** The caller's record of the session's `initialize`. */
    readonly opened: CallRecord,
  ) {}

  get id(): string {
    return this.headers['mcp-session-id'] as string;
  }

  /** initialize (with a traceparent of its own) and notifications/initialized; throws when either fails. */
  static async open(endpoint: URL, agent: Agent, timeoutMs: number): Promise<ChaosSession> {
    const traceId = newTraceId();
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'meshgate-audit-chaos', version: '1.0.0' },
      },
    };
    const startedAt = Date.now();
    const answer = await postJsonRpc(endpoint, agent, traceHeader(traceId), JSON.stringify(init), timeoutMs);
    const seen = seenIn(answer, 1);
    const sessionId = answer.sessionId;
    if (seen.outcome !== 'ok' || sessionId === undefined)
      throw new Error(`initialize failed: ${seen.detail ?? 'no Mcp-Session-Id'}`);
    const version = (seen.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    const headers = {
      'mcp-session-id': sessionId,
      'mcp-protocol-version': typeof version === 'string' ? version : LATEST_PROTOCOL_VERSION,
    };
    const opened: CallRecord = {
      method: 'initialize',
      traceId,
      session: sessionId,
      requestId: 1,
      outcome: 'ok',
      startedAt,
      endedAt: Date.now(),
    };
    const ack = await postJsonRpc(
      endpoint,
      agent,
      headers,
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      timeoutMs,
    );
    if (ack.status !== 202) throw new Error(`notifications/initialized: HTTP ${ack.status}`);
    return new ChaosSession(endpoint, agent, headers, timeoutMs, opened);
  }

  /** One tools/call of `tool` with `{ text }`; a result that does not echo `text` is a failure. Never throws. */
  async callTool(tool: string, text: string): Promise<CallRecord> {
    const requestId = this.nextId++;
    const traceId = newTraceId();
    const payload = JSON.stringify({
      jsonrpc: '2.0',
      id: requestId,
      method: 'tools/call',
      params: { name: tool, arguments: { text } },
    });
    const startedAt = Date.now();
    let seen: Seen;
    try {
      const answer = await postJsonRpc(
        this.url,
        this.agent,
        { ...this.headers, ...traceHeader(traceId) },
        payload,
        this.timeoutMs,
      );
      seen = seenIn(answer, requestId);
      const echoed = (seen.result as { content?: { text?: unknown }[] } | undefined)?.content?.[0]?.text;
      if (seen.outcome === 'ok' && echoed !== text)
        throw new Error(`tools/call ${tool} answered ${JSON.stringify(seen.result).slice(0, 200)}`);
    } catch (err) {
      seen = { outcome: 'no-answer', detail: err instanceof Error ? err.message : String(err) };
    }
    const { outcome, code, detail } = seen;
    return {
      method: 'tools/call',
      traceId,
      session: this.id,
      requestId,
      outcome,
      ...(code !== undefined ? { code } : {}),
      ...(detail !== undefined ? { detail } : {}),
      startedAt,
      endedAt: Date.now(),
    };
  }
}

function traceHeader(traceId: string): Record<string, string> {
  return { traceparent: `00-${traceId}-${newTraceId().slice(0, 16)}-01` };
}

/** A disruption fired when the run reaches `at` (a fraction of its calls). */
export interface ChaosStep {
  at: number;
  name: string;
  run(): Promise<void>;
}

/**
 * Fires each step when the call at its fraction of the run is about to start. Calls go on while a step
 * runs, but none reaches the next step's fraction before the step under way has finished, so steps never
 * overlap and each one happens while calls are in flight.
 */
export class ChaosPlan {
  private readonly starts: number[];
  private readonly running: (Promise<void> | undefined)[];

  constructor(
    private readonly total: number,
    private readonly steps: readonly ChaosStep[],
  ) {
    this.starts = steps.map((s) => Math.floor(s.at * total));
    this.running = steps.map(() => undefined);
  }

  /** Before call `index` starts: starts the step due at it, or waits for the step before the next one. */
  async beforeCall(index: number): Promise<void> {
    for (let k = 0; k < this.steps.length; k++) {
      if (index < (this.starts[k] as number)) return;
      if (k > 0) await this.running[k - 1];
      this.running[k] ??= (this.steps[k] as ChaosStep).run();
    }
  }

  /** Waits for every step; throws when one failed or when the run ended before a step was due. */
  async finished(): Promise<void> {
    const missed = this.steps.filter((_, k) => this.running[k] === undefined).map((s) => s.name);
    if (missed.length > 0) throw new Error(`steps never fired in ${this.total} calls: ${missed.join(', ')}`);
    await Promise.all(this.running.filter((p): p is Promise<void> => p !== undefined));
  }
}

/**
 * `total` calls made by closed loops, one per session, taking call numbers from one counter; the plan is
 * consulted before each. No call starts after `deadline` (epoch ms), so a stuck gateway ends the run with
 * fewer records instead of holding it. Resolves with the records of every call made, once all ended.
 */
export async function runCalls(
  sessions: readonly ChaosSession[],
  total: number,
  plan: ChaosPlan,
  deadline: number,
  call: (session: ChaosSession, index: number) => Promise<CallRecord>,
): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  let next = 0;
  await Promise.all(
    sessions.map(async (session) => {
      for (let index = next++; index < total && Date.now() < deadline; index = next++) {
        await plan.beforeCall(index);
        records.push(await call(session, index));
      }
    }),
  );
  return records;
}

/** The value of an unlabelled sample `name` in a Prometheus text exposition, or undefined. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** Spool segments (`seg-<n>.jsonl`) left in an audit spool directory; 0 when it does not exist. */
export function spoolSegments(dir: string): number {
  try {
    return readdirSync(dir).filter((name) => /^seg-\d+\.jsonl$/.test(name)).length;
  } catch {
    return 0;
  }
}

/** The steps each request must leave in the trail, by what its caller saw (README, ADR 003). */
function stepRules(
  call: CallRecord,
): Record<'request-received' | 'policy-decision' | 'upstream-call' | 'response-sent', [number, number]> {
  if (call.method === 'initialize')
    return {
      'request-received': [1, 1],
      'policy-decision': [0, 0],
      'upstream-call': [0, 0],
      'response-sent': [1, 1],
    };
  switch (call.outcome) {
    case 'ok':
      return {
        'request-received': [1, 1],
        'policy-decision': [1, 1],
        'upstream-call': [1, 1],
        'response-sent': [1, 1],
      };
    case 'rpc-error': // ingress received it and answered it; the router may have decided and gone upstream before it failed
      return {
        'request-received': [1, 1],
        'policy-decision': [0, 1],
        'upstream-call': [0, 1],
        'response-sent': [1, 1],
      };
    case 'no-answer':
      return {
        'request-received': [0, 1],
        'policy-decision': [0, 1],
        'upstream-call': [0, 1],
        'response-sent': [0, 1],
      };
  }
}

/** What the judge found; every list is empty when the archive holds exactly what the callers saw. */
export interface ArchiveReport {
  /** Events read from the archive. */
  archived: number;
  /** Events the callers' view requires (each request's mandatory steps). */
  required: number;
  /** Optional steps found: upstream-calls of failed calls, and steps of calls that got no answer. */
  optionalFound: number;
  duplicateIds: string[];
  /** `<traceId> <kind>` present more than once. */
  duplicateSteps: string[];
  /** `<traceId> <kind> (<what the caller saw>)` required and absent. */
  missing: string[];
  /** Events of no known request, or of a step the request cannot have. */
  unexpected: string[];
  /** Events whose session, request id, outcome or error code disagree with the caller's record. */
  mismatched: string[];
}

function callLabel(call: CallRecord): string {
  const code = call.code !== undefined ? ` ${call.code}` : '';
  return `${call.method} ${call.outcome}${code}, session ${call.session?.slice(0, 8) ?? '-'} id ${call.requestId}`;
}

function mismatch(call: CallRecord, e: AuditEvent): string | undefined {
  if (e.requestId !== call.requestId) return `request id ${String(e.requestId)}`;
  const session = e.kind === 'request-received' && call.method === 'initialize' ? undefined : call.session;
  if (e.session !== session) return `session ${e.session ?? '-'}`;
  if (e.kind !== 'response-sent') return undefined;
  if (call.outcome === 'ok' && e.outcome !== 'ok') return `outcome ${e.outcome}`;
  if (call.outcome === 'rpc-error' && (e.outcome === 'ok' || e.error?.code !== call.code))
    return `outcome ${e.outcome} code ${e.error?.code ?? '-'}`;
  return undefined;
}

/** Holds the archived events of one tenant against the callers' records of every request they made. */
export function judgeArchive(calls: readonly CallRecord[], events: readonly AuditEvent[]): ArchiveReport {
  const report: ArchiveReport = {
    archived: events.length,
    required: 0,
    optionalFound: 0,
    duplicateIds: [],
    duplicateSteps: [],
    missing: [],
    unexpected: [],
    mismatched: [],
  };
  const ids = new Set<string>();
  const steps = new Map<string, AuditEvent[]>();
  for (const e of events) {
    if (ids.has(e.id)) report.duplicateIds.push(e.id);
    ids.add(e.id);
    const key = `${e.traceId} ${e.kind}`;
    steps.set(key, [...(steps.get(key) ?? []), e]);
  }
  for (const [key, found] of steps) if (found.length > 1) report.duplicateSteps.push(key);
  const known = new Set<string>();
  for (const call of calls) {
    for (const [kind, [min, max]] of Object.entries(stepRules(call))) {
      const key = `${call.traceId} ${kind}`;
      known.add(key);
      const found = steps.get(key) ?? [];
      report.required += min;
      report.optionalFound += Math.max(0, Math.min(found.length, max) - min);
      if (found.length < min) report.missing.push(`${key} (${callLabel(call)})`);
      if (found.length > max && max === 0) report.unexpected.push(`${key} (${callLabel(call)})`);
      for (const e of found) {
        const wrong = mismatch(call, e);
        if (wrong) report.mismatched.push(`${key} event ${e.id}: ${wrong} (${callLabel(call)})`);
      }
    }
  }
  for (const [key, found] of steps)
    if (!known.has(key))
      report.unexpected.push(...found.map((e) => `${key} event ${e.id} from ${e.service}`));
  return report;
}

/** A two-column text table for the CI log. */
export function textTable(rows: readonly (readonly [string, string | number])[]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}
