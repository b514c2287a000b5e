/**
 * What every era fixture offers and every era agent answers, shared by both sides so a matrix cell can
 * tell that a value made the whole trip: the tool, resource and prompt names, the arguments a cell sends
 * and the result it expects, the elicitation form and the agents' deterministic answers.
 */
import { FIXTURE_TEXT } from '../fixtures/feature-resources';
import { hasElicitation, type MatrixEra } from './matrix-eras';

/** The tools of an era fixture: structured output, progress, sampling and (from 2025-06-18) elicitation. */
export const MATRIX_TOOLS = {
  structured: 'add',
  progress: 'progress',
  sampling: 'sample',
  elicitation: 'elicit',
} as const;

/** The tool names an upstream fixture of `era` lists. */
export function matrixToolNames(era: MatrixEra): string[] {
  return [
    MATRIX_TOOLS.structured,
    MATRIX_TOOLS.progress,
    MATRIX_TOOLS.sampling,
    ...(hasElicitation(era) ? [MATRIX_TOOLS.elicitation] : []),
  ];
}

/** The arguments a cell gives the structured tool, and the structured value it must get back. */
export const STRUCTURED_ARGS = { a: 2, b: 3 };
export const STRUCTURED_VALUE = { sum: 5 };

/** The one resource of an era fixture and its text (non-ASCII on purpose). */
export const MATRIX_RESOURCE_URI = 'fixture://text';
export const MATRIX_RESOURCE_TEXT = FIXTURE_TEXT;

/** The one prompt of an era fixture, the arguments a cell sends and the text the prompt answers with. */
export const MATRIX_PROMPT = 'greet';
export const MATRIX_PROMPT_ARGS = { name: 'Ada' };
export const MATRIX_PROMPT_TEXT = 'Greet Ada in a casual style.';

/** The form the elicitation tool asks for: only what 2025-06-18 can express (no enum titles, no defaults). */
export const MATRIX_FORM = {
  type: 'object' as const,
  properties: {
    color: { type: 'string' as const, title: 'Colour', enum: ['red', 'green', 'blue'] },
    count: { type: 'integer' as const, title: 'Count', minimum: 1, maximum: 10 },
  },
  required: ['color'],
};

/** What every era agent fills into the form. */
export const MATRIX_FORM_ANSWER = { color: 'blue', count: 2 };

/** The text an agent of `era` answers a sampling request whose last message says `prompt`. */
export function samplingAnswer(era: MatrixEra, prompt: string): string {
  return `agent ${era} sampled: ${prompt}`;
}
