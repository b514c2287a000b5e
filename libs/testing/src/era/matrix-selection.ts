/**
 * Which cells of the era matrix run: all 25 by default, or those an `ERA_MATRIX_CELLS` value lists as
 * `agent>upstream` pairs separated by commas (`2025-06-18>2025-11-25,2025-03-26>2024-11-05`). A value that
 * names an unknown era or is not a pair is refused with the entries at fault.
 */
import { z } from 'zod';
import { MATRIX_ERAS, MatrixEra } from './matrix-eras';

/** One cell: an agent era and an upstream era. */
export interface MatrixCell {
  agent: MatrixEra;
  upstream: MatrixEra;
}

const CellSpec = z
  .string()
  .transform((entry) => entry.split('>').map((part) => part.trim()))
  .pipe(z.tuple([MatrixEra, MatrixEra]));

/** Every cell, agents then upstreams in era order. */
export function allCells(): MatrixCell[] {
  return MATRIX_ERAS.flatMap((agent) => MATRIX_ERAS.map((upstream) => ({ agent, upstream })));
}

/** The cells `spec` selects (every cell when it is undefined or blank); throws on a malformed entry. */
export function selectCells(spec: string | undefined): MatrixCell[] {
  if (spec === undefined || spec.trim() === '') return allCells();
  const entries = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const bad: string[] = [];
  const chosen = new Set<string>();
  for (const entry of entries) {
    const parsed = CellSpec.safeParse(entry);
    if (parsed.success) chosen.add(parsed.data.join('>'));
    else bad.push(JSON.stringify(entry));
  }
  if (bad.length > 0)
    throw new Error(
      `ERA_MATRIX_CELLS: ${bad.join(', ')} not of the form <agent era>><upstream era> with eras ${MATRIX_ERAS.join(', ')}`,
    );
  return allCells().filter((cell) => chosen.has(`${cell.agent}>${cell.upstream}`));
}
