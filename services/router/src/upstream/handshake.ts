/**
 * The handshakes the gateway runs on a started transport. A session upstream gets initialize: the latest
 * session version offered with the gateway's client capabilities (so upstreams may use sampling,
 * elicitation and roots), the version it chose checked, then notifications/initialized. A modern
 * (2026-07-28) upstream has no handshake: its server/discover result, asked with the gateway's own
 * envelope, stands in for the InitializeResult the router keeps.
 */
import {
  GatewayClientCapabilities,
  LatestSessionVersion,
  SessionVersions,
  discoverAsInitializeResult,
  modernDiscoverResult,
  upstreamCapabilities,
  withUpstreamEnvelope,
} from '@meshgate/mcp';
import type { Outcome } from './relay-table';
import type { UpstreamTransport } from './transport';

/** Sends one request on the transport being established. */
export type Exchange = (
  method: string,
  params: Record<string, unknown>,
  timeoutMs: number,
) => Promise<Outcome>;

/** The params of the gateway's own server/discover: its envelope, declaring its own client capabilities. */
export function discoverParams(version: string): Record<string, unknown> {
  return withUpstreamEnvelope(undefined, {
    clientCapabilities: upstreamCapabilities(undefined),
    clientInfo: { name: 'meshgate', version },
  });
}

/**
 * Runs the initialize handshake on a started transport within `timeoutMs` per step; returns the upstream's
 * InitializeResult or throws why not.
 */
export async function handshake(
  transport: UpstreamTransport,
  exchange: Exchange,
  timeoutMs: number,
  version: string,
): Promise<Record<string, unknown>> {
  const out = await exchange(
    'initialize',
    {
      protocolVersion: LatestSessionVersion,
      capabilities: GatewayClientCapabilities,
      clientInfo: { name: 'meshgate', version },
    },
    timeoutMs,
  );
  if ('error' in out) throw new Error(`initialize failed: ${out.error.message}`);
  const chosen = out.result['protocolVersion'];
  if (typeof chosen !== 'string' || !SessionVersions.includes(chosen as never))
    throw new Error(`upstream chose an unsupported protocol version: ${String(chosen).slice(0, 32)}`);
  transport.initialized(chosen);
  await withTimeout(
    transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    timeoutMs,
    'notifications/initialized not accepted in time',
  );
  return out.result;
}

/**
 * Asks a modern upstream server/discover; returns its discover result as an InitializeResult, or throws
 * when the upstream does not answer as a 2026-07-28 server (any more).
 */
export async function discoverHandshake(
  exchange: Exchange,
  timeoutMs: number,
  version: string,
  server: string,
): Promise<Record<string, unknown>> {
  const out = await exchange('server/discover', discoverParams(version), timeoutMs);
  if ('error' in out) throw new Error(`server/discover failed: ${out.error.message}`);
  const discover = modernDiscoverResult(out.result);
  if (!discover) throw new Error('server/discover did not offer protocol version 2026-07-28');
  return discoverAsInitializeResult(discover, server);
}

/** Rejects with `message` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
