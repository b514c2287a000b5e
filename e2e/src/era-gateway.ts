/**
 * The gateway of the era matrix: the five era fixtures (one per released MCP version) registered as
 * `era-<version>` in one gateway, the URL an agent of each era uses to reach one of them or the federated
 * endpoint (the legacy HTTP+SSE routes for 2024-11-05 agents, Streamable HTTP for the others), and a
 * bounded-concurrency runner so that cells run side by side without overloading the machine.
 */
import {
  MATRIX_ERAS,
  eraServerName,
  startEraUpstream,
  usesLegacySse,
  type EraUpstream,
  type MatrixEra,
} from '@meshgate/testing';
import { startGateway, type Gateway, type McpServerEntry } from './gateway';

/** A running gateway in front of the five era fixtures. */
export interface EraGateway {
  readonly gateway: Gateway;
  readonly upstreams: readonly EraUpstream[];
  /** Where an agent of `agent`'s era reaches upstream `upstream`, or the federated endpoint without one. */
  agentUrl(agent: MatrixEra, upstream?: MatrixEra): string;
  stop(): Promise<void>;
}

/** Starts the five era fixtures and a gateway that serves them; stops whatever started when one fails. */
export async function startEraGateway(opts: { upstreamTimeoutMs?: number } = {}): Promise<EraGateway> {
  const upstreams: EraUpstream[] = [];
  try {
    for (const era of MATRIX_ERAS) upstreams.push(await startEraUpstream(era));
    const servers: Record<string, McpServerEntry> = Object.fromEntries(
      upstreams.map((upstream) => [
        eraServerName(upstream.era),
        {
          url: upstream.url,
          type: upstream.transport,
          timeoutMs: opts.upstreamTimeoutMs ?? 30_000,
          // Legacy SSE does not say which request a server-to-client request belongs to, so a connection
          // shared by sessions refuses sampling while calls of several sessions are in flight (ADR 001);
          // cells run side by side, so this upstream gets one connection per agent session.
          stateful: upstream.transport === 'sse',
        },
      ]),
    );
    const gateway = await startGateway({ servers });
    const base = gateway.ingress[0]!.url;
    return {
      gateway,
      upstreams,
      agentUrl(agent, upstream) {
        const route = usesLegacySse(agent) ? 'sse' : 'mcp';
        return upstream === undefined
          ? `${base}/${route}`
          : `${base}/servers/${eraServerName(upstream)}/${route}`;
      },
      async stop() {
        await gateway.stop();
        await Promise.all(upstreams.map((upstream) => upstream.close().catch(() => undefined)));
      },
    };
  } catch (error) {
    await Promise.all(upstreams.map((upstream) => upstream.close().catch(() => undefined)));
    throw error;
  }
}

/** `run` over every item, at most `limit` at a time; results in the order of `items`. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
