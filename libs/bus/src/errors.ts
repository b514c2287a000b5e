/**
 * The one error envelope of the bus. Handlers answer with `respondError(code, description)` of the NATS
 * services framework; callers get a BusError carrying the same code. Codes follow HTTP: 4xx caller faults,
 * 5xx system faults. Descriptions are one short line (headers cannot carry more).
 */

export class BusError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'BusError';
  }
  /** True for faults of the caller (bad payload, not found), false for faults of the system. */
  get isCallerFault(): boolean {
    return this.code >= 400 && this.code < 500;
  }
}

/** The caller sent something wrong; retrying the same request will not help. */
export class CallerFault extends BusError {
  constructor(message: string, code = 400) {
    super(code, message);
    this.name = 'CallerFault';
  }
}

/** The system failed; the caller may retry. */
export class SystemFault extends BusError {
  constructor(message: string, code = 500) {
    super(code, message);
    this.name = 'SystemFault';
  }
}

/** No replica of the service answered (503), or the deadline passed (504). */
export const Unavailable = (what: string) => new BusError(503, `${what}: no responders`);
export const DeadlineExceeded = (what: string) => new BusError(504, `${what}: deadline exceeded`);

/** Makes any text safe for a NATS header: one line, printable, bounded. */
export function sanitizeDescription(text: string, max = 200): string {
  const one = text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return one.length > max ? `${one.slice(0, max - 1)}…`.replace(/[^\x20-\x7e]/g, '') : one || 'error';
}
