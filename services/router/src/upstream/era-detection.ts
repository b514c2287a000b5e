/**
 * Era detection decisions, pure (the probes themselves are sent by establish and http-era-probe). The
 * gateway first asks an upstream `server/discover` in the 2026-07-28 shape: a discover result offering
 * that version means a modern upstream; any JSON-RPC error, or an HTTP client error without one, means an
 * older one (initialize follows). On HTTP, credentials refused (401/403) or a server error (5xx) are
 * failures, not era evidence: the connection attempt fails and is retried. On stdio, a child that exits
 * or stays silent on the probe is an older server too (some end on any request before initialize). For
 * an `auto` HTTP definition, an initialize answered 400, 404 or 405 means the URL is a 2024-11-05
 * HTTP+SSE endpoint.
 */
import type { JsonRpcErrorObject } from '@meshgate/contracts';
import { modernDiscoverResult, type DiscoverResult } from '@meshgate/mcp';

/** What came back for a probe. */
export type ProbeReply =
  /** A JSON-RPC answer (with the HTTP status it came with, on HTTP). */
  | { kind: 'answer'; result?: unknown; error?: JsonRpcErrorObject; status?: number }
  /** An HTTP answer carrying no JSON-RPC answer. */
  | { kind: 'http'; status: number }
  /** The stdio child exited before answering. */
  | { kind: 'closed' }
  /** No answer in time. */
  | { kind: 'timeout' };

/** What a discover probe tells. */
export type DiscoverVerdict =
  { kind: 'modern'; discover: DiscoverResult } | { kind: 'older' } | { kind: 'failed'; reason: string };

/** The verdict of a server/discover probe sent over `wire`. */
export function classifyDiscover(reply: ProbeReply, wire: 'stdio' | 'http'): DiscoverVerdict {
  const status = reply.kind === 'answer' || reply.kind === 'http' ? reply.status : undefined;
  if (status !== undefined) {
    if (status === 401 || status === 403)
      return { kind: 'failed', reason: `server/discover answered HTTP ${status}: credentials refused` };
    if (status >= 500) return { kind: 'failed', reason: `server/discover answered HTTP ${status}` };
  }
  switch (reply.kind) {
    case 'answer': {
      const discover = reply.error === undefined ? modernDiscoverResult(reply.result) : undefined;
      return discover ? { kind: 'modern', discover } : { kind: 'older' };
    }
    case 'http':
      return { kind: 'older' };
    case 'closed':
    case 'timeout':
      return wire === 'stdio'
        ? { kind: 'older' }
        : {
            kind: 'failed',
            reason: `server/discover: ${reply.kind === 'closed' ? 'connection closed' : 'no answer in time'}`,
          };
  }
}

/** What the HTTP status of an initialize probe tells about an `auto` definition's URL. */
export function classifyInitialize(
  status: number,
): { kind: 'streamable-http' } | { kind: 'sse' } | { kind: 'failed'; reason: string } {
  if (status >= 200 && status < 300) return { kind: 'streamable-http' };
  if (status === 400 || status === 404 || status === 405) return { kind: 'sse' };
  return { kind: 'failed', reason: `initialize answered HTTP ${status}` };
}
