/**
 * Bounded waits for the era matrix: a promise raced against a deadline (with a hook for what it yields
 * too late), and the one-line reason a failure is reported with.
 */

/** Longest reason a matrix check keeps. */
const MAX_REASON = 200;

/**
 * `promise`, or a rejection `<what>: no answer within <ms> ms` once `ms` passed. When the deadline wins,
 * `late` receives the value `promise` still resolves with (so a late connection can be closed).
 */
export function boundedBy<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  late?: (value: T) => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
  });
  const watched = promise.then((value) => {
    if (expired) late?.(value);
    return value;
  });
  // The deadline may win: the loser's rejection is handled here, not left unhandled.
  watched.catch(() => undefined);
  return Promise.race([watched, deadline]).finally(() => clearTimeout(timer));
}

/** The first line of `error`'s message, cut to a table-friendly length. */
export function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n', 1)[0]?.trim() || 'failed without a message';
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}
