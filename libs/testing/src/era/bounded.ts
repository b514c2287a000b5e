/**
 * Bounded waits for the era matrix: a promise raced against a deadline, a client handshake that releases
 * what it holds when it fails or runs late, and the one-line reason a failure is reported with.
 */

/** Longest reason a matrix check keeps. */
const MAX_REASON = 200;

/** `promise`, or a rejection `<what> took longer than <ms> ms` once `ms` passed. */
export function boundedBy<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  // The deadline may win: the loser's rejection is handled here, not left unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Runs a client's `connect` within `ms`; when it fails or takes longer, `close` releases whatever the
 * handshake holds open (an SSE stream that never announced its endpoint, for one) before the error is
 * rethrown.
 */
export async function connectWithin(
  connect: () => Promise<void>,
  close: () => Promise<void>,
  ms: number,
): Promise<void> {
  try {
    await boundedBy(connect(), ms, 'the handshake');
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** The first line of `error`'s message, cut to a table-friendly length. */
export function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n', 1)[0]?.trim() || 'failed without a message';
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}
