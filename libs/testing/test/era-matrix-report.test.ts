/**
 * The pure parts of the era matrix kit: the n/a rule, the ERA_MATRIX_CELLS selection, and the summaries,
 * table and failure list the matrix test prints.
 */
import { describe, expect, it } from 'vitest';
import {
  MATRIX_FEATURES,
  NOT_CONNECTED,
  cellSummary,
  matrixFailures,
  notExpressible,
  renderMatrix,
  selectCells,
  type CellResult,
  type CheckOutcome,
  type MatrixFeature,
} from '../src/index';

function result(
  agent: CellResult['agent'],
  upstream: CellResult['upstream'],
  overrides: Partial<Record<MatrixFeature, CheckOutcome>> = {},
): CellResult {
  const checks = Object.fromEntries(
    MATRIX_FEATURES.map((feature) => [feature, overrides[feature] ?? { status: 'pass' }]),
  );
  return { agent, upstream, checks: checks as Record<MatrixFeature, CheckOutcome> };
}

describe('notExpressible', () => {
  it('makes elicitation n/a unless both eras are 2025-06-18 or later, and nothing else', () => {
    expect(notExpressible('elicitation', '2025-06-18', '2026-07-28')).toBeUndefined();
    expect(notExpressible('elicitation', '2025-03-26', '2025-11-25')).toMatch(/agent 2025-03-26 lacks it/);
    expect(notExpressible('elicitation', '2026-07-28', '2024-11-05')).toMatch(/upstream 2024-11-05 lacks it/);
    for (const feature of MATRIX_FEATURES.filter((f) => f !== 'elicitation'))
      expect(notExpressible(feature, '2024-11-05', '2024-11-05')).toBeUndefined();
  });
});

describe('selectCells', () => {
  it('selects all 25 cells when unset or blank', () => {
    expect(selectCells(undefined)).toHaveLength(25);
    expect(selectCells('  ')).toHaveLength(25);
  });

  it('selects the listed cells only, in matrix order, ignoring spaces and repeats', () => {
    expect(selectCells(' 2025-11-25>2025-03-26 ,2024-11-05>2026-07-28,2025-11-25>2025-03-26')).toEqual([
      { agent: '2024-11-05', upstream: '2026-07-28' },
      { agent: '2025-11-25', upstream: '2025-03-26' },
    ]);
  });

  it('refuses unknown eras and entries that are not pairs, naming them', () => {
    expect(() => selectCells('2025-06-18>2025-06-19,2025-06-18')).toThrow(
      /"2025-06-18>2025-06-19", "2025-06-18"/,
    );
    expect(() => selectCells('a>b>c')).toThrow(/ERA_MATRIX_CELLS/);
  });
});

describe('cell summaries and the table', () => {
  const na: CheckOutcome = { status: 'n/a', reason: 'no elicitation' };

  it('counts passes over applicable checks and mentions n/a ones', () => {
    expect(cellSummary(result('2025-11-25', '2025-06-18'))).toBe('8/8');
    expect(cellSummary(result('2025-03-26', '2025-06-18', { elicitation: na }))).toBe('7/7 (1 n/a)');
  });

  it('shows the first failure with its reason and how many more failed', () => {
    const failed = result('2025-11-25', '2024-11-05', {
      progress: { status: 'fail', reason: 'progress values [1,3]' },
      sampling: { status: 'fail', reason: 'tool error: sample failed' },
    });
    expect(cellSummary(failed)).toBe('FAIL: progress: progress values [1,3] (+1 more)');
    expect(matrixFailures([failed])).toEqual([
      '2025-11-25 > 2024-11-05: progress: progress values [1,3]',
      '2025-11-25 > 2024-11-05: sampling: tool error: sample failed',
    ]);
  });

  it('after a failed handshake shows that failure alone and cuts a long reason', () => {
    const reason = 'Version negotiation failed: the server did not offer pinned protocol version 2026-07-28';
    const failed = result('2026-07-28', '2024-11-05', {
      handshake: { status: 'fail', reason },
      sampling: { status: 'fail', reason: NOT_CONNECTED },
    });
    expect(cellSummary(failed)).toBe('FAIL: handshake: Version negotiation failed: the…');
    expect(matrixFailures([failed])).toHaveLength(2);
  });

  it('renders rows by agent and columns by upstream, with cells left out as not run', () => {
    const table = renderMatrix([result('2025-06-18', '2025-11-25')], ['2025-06-18', '2025-11-25']);
    expect(table.split('\n')).toEqual([
      '| agent \\ upstream | 2025-06-18 | 2025-11-25 |',
      '|------------------|------------|------------|',
      '| 2025-06-18       | not run    | 8/8        |',
      '| 2025-11-25       | not run    | not run    |',
    ]);
  });
});
