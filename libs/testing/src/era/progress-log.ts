/**
 * The progress notifications an era agent received, by token. Agents send their own progress tokens and
 * record every notification themselves: the SDKs' own progress dispatch only knows the tokens they mint
 * and drops a notification that arrives in the same chunk as its response.
 */
import { z } from 'zod';

const ProgressParams = z.looseObject({
  progressToken: z.union([z.string(), z.number()]),
  progress: z.number(),
});

/** Progress values received, by token. */
export class ProgressLog {
  readonly #values = new Map<string, number[]>();

  /** Records the params of one notifications/progress; ignores params that are not progress. */
  record(params: unknown): void {
    const parsed = ProgressParams.safeParse(params);
    if (!parsed.success) return;
    const token = String(parsed.data.progressToken);
    this.#values.set(token, [...(this.#values.get(token) ?? []), parsed.data.progress]);
  }

  /** The progress values received for `token`, in arrival order. */
  valuesFor(token: string): number[] {
    return [...(this.#values.get(token) ?? [])];
  }
}
