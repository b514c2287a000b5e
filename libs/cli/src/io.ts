/**
 * Where commands write: standard output for results, standard error for problems. Commands take an Io
 * instead of touching `process` so that tests read exactly what a user would see.
 */

export interface Io {
  /** Writes one block of output (a newline is added). */
  out(text: string): void;
  /** Writes one block of diagnostics (a newline is added). */
  err(text: string): void;
}

/** The process's own standard output and error. */
export const processIo: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
};
