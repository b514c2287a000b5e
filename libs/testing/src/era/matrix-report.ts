/**
 * The era matrix as people read it: one summary per cell (`8/8`, `7/7 (1 n/a)` or
 * `FAIL: <feature>: <reason>`), the table of rows (agent eras) by columns (upstream eras), and the list of
 * every failed check with its full reason. Pure string building.
 */
import { MATRIX_FEATURES, type MatrixEra } from './matrix-eras';
import { NOT_CONNECTED, type CellResult } from './matrix-cell';

/** Longest failure reason shown inside a table cell (the list under the table has them whole). */
const TABLE_REASON = 32;

/** One cell's summary; see the file header. The checks a failed handshake skipped are not counted again. */
export function cellSummary(result: CellResult): string {
  const outcomes = MATRIX_FEATURES.map((feature) => [feature, result.checks[feature]] as const);
  const na = outcomes.filter(([, outcome]) => outcome.status === 'n/a').length;
  const applicable = outcomes.length - na;
  const failed = outcomes.filter(([, outcome]) => outcome.status === 'fail');
  const first = failed[0];
  if (first === undefined)
    return na === 0 ? `${applicable}/${applicable}` : `${applicable}/${applicable} (${na} n/a)`;
  const [feature, outcome] = first;
  const reason = outcome.status === 'fail' ? outcome.reason : '';
  const cut = reason.length > TABLE_REASON ? `${reason.slice(0, TABLE_REASON - 1)}…` : reason;
  const others = failed
    .slice(1)
    .filter(([, other]) => other.status !== 'fail' || other.reason !== NOT_CONNECTED);
  const more = others.length > 0 ? ` (+${others.length} more)` : '';
  return `FAIL: ${feature}: ${cut}${more}`;
}

/** Every failed check as `<agent> > <upstream>: <feature>: <reason>`. */
export function matrixFailures(results: readonly CellResult[]): string[] {
  return results.flatMap((result) =>
    MATRIX_FEATURES.flatMap((feature) => {
      const outcome = result.checks[feature];
      return outcome.status === 'fail'
        ? [`${result.agent} > ${result.upstream}: ${feature}: ${outcome.reason}`]
        : [];
    }),
  );
}

/**
 * The matrix table: a row per agent era, a column per upstream era, `not run` where no result exists
 * (cells left out by ERA_MATRIX_CELLS).
 */
export function renderMatrix(results: readonly CellResult[], eras: readonly MatrixEra[]): string {
  const corner = 'agent \\ upstream';
  const rows = eras.map((agent) => [
    agent,
    ...eras.map((upstream) => {
      const result = results.find(
        (candidate) => candidate.agent === agent && candidate.upstream === upstream,
      );
      return result ? cellSummary(result) : 'not run';
    }),
  ]);
  const header = [corner, ...eras];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
