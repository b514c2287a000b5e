/**
 * Turns one line of a service's output into what `meshgate start` prints: pino JSON lines become
 * "time level message key=value", anything else passes unchanged. Pure, so the terminal view is testable.
 */

const Levels: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields every service line carries and the prefix already says. */
const Hidden = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'instance', 'v']);

const MaxValueChars = 300;

/** Formats one output line of the service; `json` keeps pino lines as they are. */
export function formatLogLine(line: string, json: boolean): string {
  if (json || !line.startsWith('{')) return line;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return line;
  const record = entry as Record<string, unknown>;
  if (typeof record['level'] !== 'number') return line;
  const level = (Levels[record['level']] ?? String(record['level'])).padEnd(5);
  const time = typeof record['time'] === 'number' ? clock(record['time']) : '--:--:--';
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  const fields = Object.entries(record)
    .filter(([key]) => !Hidden.has(key))
    .map(([key, value]) => `${key}=${render(key, value)}`);
  return [time, level, msg, ...fields].filter((part) => part !== '').join(' ');
}

function clock(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function render(key: string, value: unknown): string {
  if (key === 'err' && typeof value === 'object' && value !== null && 'message' in value) {
    return JSON.stringify(String(value.message));
  }
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const quoted = typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : text;
  return quoted.length > MaxValueChars ? `${quoted.slice(0, MaxValueChars - 1)}…` : quoted;
}
