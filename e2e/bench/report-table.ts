/**
 * The printed report: the latency/throughput table with ratios against the direct baseline, the idle-memory
 * table, and PASS/MISS beside each target. Pure formatting of measured figures, no I/O.
 */
import type { CellFigures } from './latency-stats';
import type { IdleMemory } from './idle-memory';

/** Targets of the issue: added p50 at 1 session, calls/s at 32 sessions, KB per idle session. */
export const TARGETS = { addedP50Ms: 1, throughputSessions: 32, idleKbPerSession: 20 } as const;

/** One row of the latency table; `error` when the cell could not run. */
export interface CellResult {
  kind: 'direct' | 'mcp-proxy' | 'meshgate';
  target: string;
  sessions: number;
  figures?: CellFigures;
  error?: string;
}

/** One row of the idle-memory table. */
export interface IdleResult {
  kind: 'mcp-proxy' | 'meshgate';
  target: string;
  sessions: number;
  memory?: IdleMemory;
  error?: string;
}

const ms = (us: number): string => (us / 1000).toFixed(3);
const pad = (cells: string[], widths: number[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [pad(header, widths), pad(widths.map((w) => '-'.repeat(w)), widths), ...rows.map((r) => pad(r, widths))].join('\n');
}

function find(cells: CellResult[], kind: CellResult['kind'], sessions: number): CellFigures | undefined {
  return cells.find((c) => c.kind === kind && c.sessions === sessions)?.figures;
}

/** KB of RSS per idle session. */
export function kbPerSession(m: IdleMemory): number {
  return (m.afterKb - m.beforeKb) / m.sessions;
}

function latencyTable(cells: CellResult[]): string {
  const rows = cells.map((c) => {
    if (!c.figures) return [c.target, String(c.sessions), 'FAILED'];
    const direct = find(cells, 'direct', c.sessions);
    const added = direct ? `${c.figures.p50Us - direct.p50Us >= 0 ? '+' : ''}${ms(c.figures.p50Us - direct.p50Us)}` : 'n/a';
    const ratio = direct ? `${(c.figures.callsPerSec / direct.callsPerSec).toFixed(2)}x` : 'n/a';
    return [c.target, String(c.sessions), ms(c.figures.p50Us), ms(c.figures.p99Us), c.figures.callsPerSec.toFixed(0), added, ratio];
  });
  return table(['target', 'sessions', 'p50 ms', 'p99 ms', 'calls/s', 'p50 added vs direct (ms)', 'calls/s vs direct'], rows);
}

function idleTable(idle: IdleResult[]): string {
  if (idle.length === 0) return 'idle-session memory: not measured (BENCH_IDLE_SESSIONS=0)';
  const rows = idle.map((r) => {
    if (!r.memory) return [r.target, String(r.sessions), 'FAILED'];
    const m = r.memory;
    return [r.target, String(m.sessions), (m.beforeKb / 1024).toFixed(1), (m.afterKb / 1024).toFixed(1), kbPerSession(m).toFixed(2)];
  });
  return table(['process (RSS)', 'idle sessions', 'before MB', 'after MB', 'KB per session'], rows);
}

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');

/** One PASS/MISS (or n/a) line per target and Meshgate row. */
export function targetLines(cells: CellResult[], idle: IdleResult[]): string[] {
  const lines: string[] = [];
  const direct1 = find(cells, 'direct', 1);
  const proxyN = find(cells, 'mcp-proxy', TARGETS.throughputSessions);
  for (const target of [...new Set(cells.filter((c) => c.kind === 'meshgate').map((c) => c.target))]) {
    const one = cells.find((c) => c.target === target && c.sessions === 1)?.figures;
    const many = cells.find((c) => c.target === target && c.sessions === TARGETS.throughputSessions)?.figures;
    if (one && direct1) {
      const added = (one.p50Us - direct1.p50Us) / 1000;
      lines.push(`${verdict(added <= TARGETS.addedP50Ms)}  ${target}: added p50 at 1 session ${added.toFixed(3)} ms (target <= ${TARGETS.addedP50Ms} ms)`);
    } else lines.push(`n/a   ${target}: added p50 at 1 session (not measured)`);
    if (many && proxyN) {
      const ok = many.callsPerSec >= proxyN.callsPerSec;
      const figures = `${many.callsPerSec.toFixed(0)} vs mcp-proxy ${proxyN.callsPerSec.toFixed(0)}`;
      // mcp-proxy fronts the stdio form of the upstream: only Meshgate in front of that same upstream is a
      // like-for-like comparison; the HTTP-upstream rows are shown for information.
      if (target.startsWith('meshgate stdio'))
        lines.push(`${verdict(ok)}  ${target}: calls/s at ${TARGETS.throughputSessions} sessions ${figures} (target >= mcp-proxy, same upstream)`);
      else
        lines.push(`info  ${target}: calls/s at ${TARGETS.throughputSessions} sessions ${figures} (mcp-proxy fronts the stdio upstream; no target)`);
    } else lines.push(`n/a   ${target}: calls/s at ${TARGETS.throughputSessions} sessions vs mcp-proxy (not measured)`);
  }
  for (const r of idle.filter((i) => i.kind === 'meshgate')) {
    if (!r.memory) lines.push(`n/a   ${r.target}: KB per idle session (not measured)`);
    else {
      const kb = kbPerSession(r.memory);
      lines.push(`${verdict(kb <= TARGETS.idleKbPerSession)}  ${r.target}: ${kb.toFixed(2)} KB per idle session (target <= ${TARGETS.idleKbPerSession} KB)`);
    }
  }
  return lines;
}

function failureLines(cells: CellResult[], idle: IdleResult[]): string[] {
  const failed = [
    ...cells.filter((c) => !c.figures).map((c) => `${c.target} (${c.sessions} sessions): ${c.error ?? 'no figures'}`),
    ...idle.filter((r) => !r.memory).map((r) => `${r.target} (${r.sessions} idle sessions): ${r.error ?? 'no figures'}`),
  ];
  return failed.length > 0 ? ['', 'Failures', ...failed.map((l) => `  ${l}`)] : [];
}

/** The whole report as printed. */
export function renderReport(cells: CellResult[], idle: IdleResult[], header: string): string {
  const targets = targetLines(cells, idle).map((l) => `  ${l}`);
  return [header, '', latencyTable(cells), '', idleTable(idle), '', 'Targets', ...targets, ...failureLines(cells, idle)].join('\n');
}
