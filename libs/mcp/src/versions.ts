/**
 * MCP protocol versions the gateway knows and the one it agrees on with each client. Sessions (initialize)
 * run on the 2025-11-25 era at most today; 2026-07-28 is released but stateless (no initialize), so it joins
 * `SessionVersions` only when the gateway bridges that era.
 */

/** Every released MCP protocol version, oldest first. */
export const ProtocolVersions = [
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
  '2026-07-28',
] as const;
export type ProtocolVersion = (typeof ProtocolVersions)[number];

/** The versions the gateway speaks in an initialize handshake (session-based eras), oldest first. */
export const SessionVersions: readonly ProtocolVersion[] = [
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
];

/** The newest version the gateway speaks in an initialize handshake. */
export const LatestSessionVersion: ProtocolVersion = '2025-11-25';

/** True when `version` is one of the released protocol versions. */
export function isProtocolVersion(version: unknown): version is ProtocolVersion {
  return typeof version === 'string' && (ProtocolVersions as readonly string[]).includes(version);
}

/**
 * The version to answer an initialize request with: the requested one when the gateway supports it for
 * sessions, else the latest one it supports (the client then decides whether it can go on).
 */
export function negotiateVersion(requested: unknown, supported: readonly string[] = SessionVersions): string {
  if (typeof requested === 'string' && supported.includes(requested)) return requested;
  return supported[supported.length - 1] ?? LatestSessionVersion;
}
