/**
 * The HTTP face of MCP Streamable HTTP that ingress negotiates itself: protocol versions and the
 * MCP-Protocol-Version header, Accept and Content-Type. Pure functions over header values.
 */

/** Versions whose clients speak Streamable HTTP with sessions (2025-03-26 and later, before 2026-07-28). */
export const SupportedVersions = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;

/** Versions whose clients speak the stateless 2026-07-28 era (per-request `_meta`, no sessions). */
export const ModernVersions = ['2026-07-28'] as const;

/** The first version of the stateless era: any later version belongs to it too (ISO dates sort in time). */
export const FirstModernVersion = '2026-07-28';

/** Every version this ingress serves, newest first: what `server/discover` and -32022 errors list. */
export const ServedVersions: readonly string[] = [...ModernVersions, ...SupportedVersions];

/** True for a date-shaped version of the stateless era (2026-07-28 or later), served or not. */
export function isModernVersion(v: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(v) && v >= FirstModernVersion;
}

/** What the spec tells a server to assume when the MCP-Protocol-Version header is absent. */
export const AssumedVersion = '2025-03-26';

/** First version whose clients accept the priming event (an SSE event with an id and empty data). */
const PrimingSince = '2025-11-25';

/** True for a version whose clients this ingress serves. */
export function isSupportedVersion(v: string): boolean {
  return (SupportedVersions as readonly string[]).includes(v);
}

/** Whether SSE streams of a session at this version start with a priming event. */
export function supportsPriming(sessionVersion: string): boolean {
  return sessionVersion >= PrimingSince;
}

/** Result of a header check: ok, or why the request is refused. */
export type VersionCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks the MCP-Protocol-Version header of a request. A value that is neither supported nor the session's
 * negotiated version is refused; an absent header means 2025-03-26, which matches sessions negotiated at
 * 2025-03-26 or before (their clients never send it); a present header must equal the session's version.
 * `sessionVersion` is undefined for `initialize`.
 */
export function checkVersionHeader(
  header: string | undefined,
  sessionVersion: string | undefined,
): VersionCheck {
  // The session's own version is always accepted: the router also negotiates 2024-11-05, and clients send it.
  if (header !== undefined && header !== sessionVersion && !isSupportedVersion(header))
    return { ok: false, reason: `unsupported MCP-Protocol-Version: ${header.slice(0, 40)}` };
  if (sessionVersion === undefined) return { ok: true };
  if (header === undefined)
    return sessionVersion <= AssumedVersion
      ? { ok: true }
      : { ok: false, reason: `MCP-Protocol-Version header required (session uses ${sessionVersion})` };
  return header === sessionVersion
    ? { ok: true }
    : { ok: false, reason: `MCP-Protocol-Version ${header} does not match the session's ${sessionVersion}` };
}

/** Media ranges of an Accept header with q > 0, lower-case, parameters dropped. */
function acceptedRanges(accept: string | undefined): string[] {
  if (!accept) return [];
  return accept
    .split(',')
    .map((part) => {
      const [range = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return q !== undefined && Number(q.slice(2)) === 0 ? '' : range;
    })
    .filter((r) => r.length > 0);
}

function allows(ranges: string[], type: string): boolean {
  const major = type.split('/')[0];
  return ranges.some((r) => r === type || r === '*/*' || r === `${major}/*`);
}

/** POST: the client must accept both a JSON answer and an SSE stream. */
export function acceptsJsonAndSse(accept: string | undefined): boolean {
  const ranges = acceptedRanges(accept);
  return allows(ranges, 'application/json') && allows(ranges, 'text/event-stream');
}

/** GET: the client must accept an SSE stream. */
export function acceptsSse(accept: string | undefined): boolean {
  return allows(acceptedRanges(accept), 'text/event-stream');
}

/** True for `application/json`, with or without parameters such as charset. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return contentType.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** The one version whose Streamable HTTP POSTs may carry JSON-RPC batches (added 2025-03-26, removed 2025-06-18). */
const BatchVersion = '2025-03-26';

/** Whether a session at this version may POST a JSON-RPC batch. */
export function supportsBatches(sessionVersion: string): boolean {
  return sessionVersion === BatchVersion;
}
