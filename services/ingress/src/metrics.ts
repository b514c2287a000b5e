/**
 * Prometheus metrics of one ingress instance, on its own registry (several instances may share a process
 * in tests). Label values are bounded: unknown JSON-RPC methods count as `other`, unmatched routes as
 * `unmatched`, so a hostile client cannot grow the series without limit.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditStatus } from './audit-trail';
import type { CallOutcome } from './error-mapping';

const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);

/** The method as a metric label: itself when it is an MCP method, `other` otherwise. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

/** The metrics one instance exposes on `/metrics`. */
export interface IngressMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  sseStreams: Gauge;
  /** Records one JSON-RPC call that started at `startedAt` (epoch ms). */
  observeCall(method: string, outcome: CallOutcome, startedAt: number): void;
}

/** The audit publisher's counters, read from its stats on every scrape. */
const AuditCounters = [
  ['published', 'Audit events handed to the publisher'],
  ['spooled', 'Audit events written to the on-disk spool while the stream was unreachable'],
  ['dropped', 'Audit events lost (spool full or unwritable); each one is also logged'],
] as const;

/** Creates the metrics; `sessionsCached` and `audit` are read on every scrape. */
export function createMetrics(sessionsCached: () => number, audit: () => AuditStatus): IngressMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'meshgate_ingress_' });
  const httpRequests = new Counter({
    name: 'meshgate_ingress_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const rpcCalls = new Counter({
    name: 'meshgate_ingress_jsonrpc_calls_total',
    help: 'JSON-RPC requests from agents by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [registry],
  });
  const rpcLatency = new Histogram({
    name: 'meshgate_ingress_jsonrpc_call_seconds',
    help: 'Time from receiving a JSON-RPC request to writing its response',
    labelNames: ['method', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const sseStreams = new Gauge({
    name: 'meshgate_ingress_sse_streams_open',
    help: 'SSE streams currently open to agents',
    registers: [registry],
  });
  new Gauge({
    name: 'meshgate_ingress_sessions_cached',
    help: 'Session records held in the local cache',
    registers: [registry],
    collect() {
      this.set(sessionsCached());
    },
  });
  for (const [field, help] of AuditCounters)
    new Counter({
      name: `meshgate_ingress_audit_events_${field}_total`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(audit()[field] ?? 0);
      },
    });
  return {
    registry,
    httpRequests,
    sseStreams,
    observeCall(method, outcome, startedAt) {
      const labels = { method: methodLabel(method), outcome };
      rpcCalls.inc(labels);
      rpcLatency.observe(labels, (Date.now() - startedAt) / 1000);
    },
  };
}
