/**
 * The federated check of the era matrix: an agent of one era lists the tools of an endpoint that merges
 * upstreams of several eras (Meshgate's `/mcp`) and must see every tool of every upstream, namespaced
 * `<server>__<tool>`. No agent may lose tools because of an upstream's version.
 */
import { federatedNaming } from '../suite/naming';
import { boundedBy, shortReason } from './bounded';
import { connectCheckedAgent, type CheckOutcome } from './matrix-cell';
import type { MatrixEra } from './matrix-eras';
import { matrixToolNames } from './matrix-fixture-spec';

/** Where and how the federated check of one agent era runs. */
export interface FederatedTarget {
  agent: MatrixEra;
  /** The federated endpoint (legacy SSE URL for a 2024-11-05 agent). */
  url: string;
  /** The upstreams merged behind it: their eras and server names. */
  upstreams: readonly { era: MatrixEra; server: string }[];
  /** Bound on each step (default 20 s). */
  stepTimeoutMs?: number;
}

/** The namespaced tool names an agent must see on the federated endpoint. */
export function federatedToolNames(upstreams: FederatedTarget['upstreams']): string[] {
  return upstreams.flatMap(({ era, server }) =>
    matrixToolNames(era).map((tool) => federatedNaming(server).tool.toWire(tool)),
  );
}

/** Lists the federated tools as an agent of `target.agent`; never throws. */
export async function checkFederatedTools(target: FederatedTarget): Promise<CheckOutcome> {
  const timeoutMs = target.stepTimeoutMs ?? 20_000;
  try {
    const agent = await connectCheckedAgent(target.agent, target.url, timeoutMs);
    try {
      const names = (await boundedBy(agent.listTools(), timeoutMs, 'tools/list')).map((tool) => tool.name);
      const missing = federatedToolNames(target.upstreams).filter((name) => !names.includes(name));
      return missing.length === 0
        ? { status: 'pass' }
        : { status: 'fail', reason: `missing ${missing.join(', ')}` };
    } finally {
      await boundedBy(agent.close(), timeoutMs, 'close').catch(() => undefined);
    }
  } catch (error) {
    return { status: 'fail', reason: shortReason(error) };
  }
}
