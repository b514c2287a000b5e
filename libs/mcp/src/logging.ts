/**
 * MCP log levels (RFC 5424 severities) and the per-session filter the gateway applies: an upstream
 * connection shared by many sessions has one level, so each session only gets the messages at or above
 * the level it asked for.
 */

/** Log levels from the least to the most severe. */
export const LoggingLevels = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;
export type LoggingLevel = (typeof LoggingLevels)[number];

/** True when `level` is one of the MCP log levels. */
export function isLoggingLevel(level: unknown): level is LoggingLevel {
  return typeof level === 'string' && (LoggingLevels as readonly string[]).includes(level);
}

/**
 * True when a message of `messageLevel` reaches a session that set `sessionLevel`. A session that set no
 * level gets every message (the server decides what to send); a message with an unknown level is let through.
 */
export function isLevelEnabled(messageLevel: unknown, sessionLevel: LoggingLevel | undefined): boolean {
  if (sessionLevel === undefined || !isLoggingLevel(messageLevel)) return true;
  return LoggingLevels.indexOf(messageLevel) >= LoggingLevels.indexOf(sessionLevel);
}

/**
 * The least severe of `levels`, ignoring unset ones; undefined when none is set. A connection shared by
 * several sessions is set to it, so that every session gets what it asked for once its own filter applies.
 */
export function leastSevere(levels: readonly (LoggingLevel | undefined)[]): LoggingLevel | undefined {
  let least: LoggingLevel | undefined;
  for (const level of levels)
    if (
      level !== undefined &&
      (least === undefined || LoggingLevels.indexOf(level) < LoggingLevels.indexOf(least))
    )
      least = level;
  return least;
}
