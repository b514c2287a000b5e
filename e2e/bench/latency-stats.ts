/**
 * Latency statistics of one benchmark cell: exact percentiles from the sorted samples (nearest rank, no
 * histogram buckets), and throughput over the measured window. Pure functions, no I/O.
 */

/** The figures of one cell. Latencies in microseconds. */
export interface CellFigures {
  calls: number;
  p50Us: number;
  p99Us: number;
  callsPerSec: number;
}

/** The nearest-rank `p`-th percentile (0 < p <= 100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** Sorts a copy of `samplesUs` and computes p50, p99 and calls/s over `windowMs`. */
export function summarize(samplesUs: readonly number[], windowMs: number): CellFigures {
  const sorted = Float64Array.from(samplesUs).sort();
  return {
    calls: sorted.length,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
    callsPerSec: windowMs > 0 ? (sorted.length * 1000) / windowMs : 0,
  };
}
