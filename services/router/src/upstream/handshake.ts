/**
 * The MCP initialize handshake the gateway runs on every new transport: it starts the transport, offers
 * the latest session version with the gateway's client capabilities (so upstreams may use sampling,
 * elicitation and roots), checks the version the upstream chose, then sends notifications/initialized.
 */
import { GatewayClientCapabilities, LatestSessionVersion, SessionVersions } from '@meshgate/mcp';
import type { Outcome } from './relay-table';
import type { UpstreamTransport } from './transport';

/** Sends one request on the transport being initialised. */
export type Exchange = (
  method: string,
  params: Record<string, unknown>,
  timeoutMs: number,
) => Promise<Outcome>;

/** Runs the handshake within `timeoutMs` per step; returns the upstream's InitializeResult or throws why not. */
export async function handshake(
  transport: UpstreamTransport,
  exchange: Exchange,
  timeoutMs: number,
  version: string,
): Promise<Record<string, unknown>> {
  await withTimeout(transport.start(), timeoutMs, 'transport did not start in time');
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

/** Rejects with `message` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
