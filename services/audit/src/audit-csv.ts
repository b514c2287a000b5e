/**
 * CSV rendering of archived events for the export (RFC 4180): one header line, then one line per record
 * with the chain link, the envelope, the outcome, and the kind's other fields as one JSON column. Fields
 * holding a comma, quote or line break are quoted with doubled quotes; a field a spreadsheet would run as
 * a formula (leading `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`. Pure.
 */
import type { ArchiveRecord } from '@meshgate/store';

const ENVELOPE = [
  'id',
  'time',
  'tenant',
  'kind',
  'principal',
  'session',
  'traceId',
  'service',
  'instance',
  'method',
  'requestId',
  'server',
  'target',
  'outcome',
] as const;

/** The header line of the export, with its line ending. */
export const CSV_HEADER = `${['seq', 'hash', ...ENVELOPE, 'details'].join(',')}\r\n`;

/** One record as a CSV line, with its line ending. */
export function csvLine(record: ArchiveRecord): string {
  const event = record.event as Record<string, unknown>;
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event))
    if (key !== 'v' && !(ENVELOPE as readonly string[]).includes(key)) details[key] = value;
  const cells = [
    String(record.link.seq),
    record.link.hash,
    ...ENVELOPE.map((key) => text(event[key])),
    Object.keys(details).length > 0 ? JSON.stringify(details) : '',
  ];
  return `${cells.map(csvField).join(',')}\r\n`;
}

/** Quotes one field when needed and neutralises spreadsheet formulas. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
