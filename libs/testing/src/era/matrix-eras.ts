/**
 * The five released MCP protocol versions as the era matrix sees them, what each can express of the
 * features a matrix cell exercises, and the n/a rule: a feature is checked in a cell only when both the
 * agent's era and the upstream's era can express it. Pure data, no I/O.
 */
import { z } from 'zod';

/** A released protocol version, one row (agent) or column (upstream) of the matrix. */
export const MatrixEra = z.enum(['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28']);
export type MatrixEra = z.infer<typeof MatrixEra>;

/** Every era, oldest first. */
export const MATRIX_ERAS: readonly MatrixEra[] = MatrixEra.options;

/** The eras that open a session with `initialize` (SDK v1 speaks them); 2026-07-28 is stateless. */
export type InitializeEra = Exclude<MatrixEra, '2026-07-28'>;

/** The stateless era: no initialize, `server/discover`, `_meta` on every request (SDK v2). */
export const MODERN_ERA = '2026-07-28' satisfies MatrixEra;

/** True for the stateless 2026-07-28 era. */
export function isModernEra(era: MatrixEra): era is typeof MODERN_ERA {
  return era === MODERN_ERA;
}

/** Legacy HTTP+SSE (GET stream, `endpoint` event, POST to it) is the only HTTP transport of 2024-11-05. */
export function usesLegacySse(era: MatrixEra): boolean {
  return era === '2024-11-05';
}

/** `structuredContent` and `outputSchema` exist from 2025-06-18 on. */
export function hasStructuredOutput(era: MatrixEra): boolean {
  return era >= '2025-06-18';
}

/** `title` on tools, prompts, resources and implementations exists from 2025-06-18 on. */
export function hasTitles(era: MatrixEra): boolean {
  return era >= '2025-06-18';
}

/** Form elicitation (`elicitation/create`) exists from 2025-06-18 on (2026-07-28: inside input_required). */
export function hasElicitation(era: MatrixEra): boolean {
  return era >= '2025-06-18';
}

/** The `message` of a progress notification exists from 2025-03-26 on. */
export function hasProgressMessage(era: MatrixEra): boolean {
  return era >= '2025-03-26';
}

/** What a matrix cell checks, in the order it runs them. */
export const MATRIX_FEATURES = [
  'handshake',
  'tools/list',
  'structured output',
  'resources/read',
  'prompts/get',
  'progress',
  'elicitation',
  'sampling',
] as const;
export type MatrixFeature = (typeof MATRIX_FEATURES)[number];

/**
 * Why `feature` cannot be expressed between an agent of `agent`'s era and an upstream of `upstream`'s era,
 * or undefined when both can express it (then the cell checks it). Only elicitation is missing from some
 * eras: sampling, progress, resources and prompts exist in every released version, and structured output
 * degrades to its JSON as text (checked, not n/a).
 */
export function notExpressible(
  feature: MatrixFeature,
  agent: MatrixEra,
  upstream: MatrixEra,
): string | undefined {
  if (feature !== 'elicitation') return undefined;
  const lacking = [
    ...(hasElicitation(agent) ? [] : [`agent ${agent}`]),
    ...(hasElicitation(upstream) ? [] : [`upstream ${upstream}`]),
  ];
  return lacking.length === 0
    ? undefined
    : `elicitation/create first appears in 2025-06-18 (${lacking.join(', ')} lacks it)`;
}
