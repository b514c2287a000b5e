/** An Io that keeps what a command printed, for tests that read the output as a user would. */
import type { Io } from '../src/io';

export interface CapturedIo extends Io {
  stdout(): string;
  stderr(): string;
}

export function captureIo(): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (text) => void out.push(`${text}\n`),
    err: (text) => void err.push(`${text}\n`),
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
