/**
 * DNS-rebinding and cross-site protection for the MCP endpoints (spec: servers MUST validate Origin and
 * answer 403 to a foreign one). Loopback origins and hosts are always allowed; others only when listed.
 * Pure functions: no Fastify here.
 */

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for `localhost`, `127.0.0.1` or `[::1]` (the bracketed IPv6 form, as in a URL or Host header). */
export function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_NAMES.has(hostname.toLowerCase());
}

/**
 * Whether a request carrying this Origin header may proceed. No Origin (a non-browser client) is allowed;
 * a loopback http(s) origin is allowed; anything else must appear in `allowed` (lower-case, no trailing `/`).
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  const normalized = origin.trim().toLowerCase().replace(/\/+$/, '');
  if (allowed.includes(normalized)) return true;
  let url: URL;
  try {
    url = new URL(normalized);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return false;
  return isLoopbackHostname(url.hostname);
}

/** Splits a Host header into its name and optional port; null when it is malformed. */
export function splitHost(host: string): { name: string; port: string | undefined } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(host.trim());
  return m ? { name: m[1]!.toLowerCase(), port: m[2] } : null;
}

/**
 * Whether a request with this Host header may proceed: loopback hosts always, otherwise the exact
 * `name:port` or the bare name must be listed; `any` turns the check off.
 */
export function hostAllowed(host: string | undefined, allowed: readonly string[], any: boolean): boolean {
  if (any) return true;
  if (host === undefined) return false;
  const parts = splitHost(host);
  if (!parts) return false;
  if (isLoopbackHostname(parts.name)) return true;
  const full = parts.port === undefined ? parts.name : `${parts.name}:${parts.port}`;
  return allowed.includes(full) || allowed.includes(parts.name);
}
