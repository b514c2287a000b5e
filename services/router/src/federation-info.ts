/**
 * Pure pieces of the federated endpoint: its InitializeResult (the gateway's own capabilities, and
 * instructions naming the servers behind it and how names are namespaced), the time a federated list may
 * take, and one upstream's share of such a list raced against that time.
 */
import type { ServerDefinition } from '@meshgate/contracts';
import {
  FederatedServerCapabilities,
  FederatedTasksCapability,
  UriSeparator,
  negotiateVersion,
} from '@meshgate/mcp';

/** Time kept back from the call's deadline so the merged answer still reaches the caller in time. */
export const ReplyMarginMs = 50;

/**
 * The InitializeResult of the federated endpoint. It declares `tasks` always: the gateway routes task
 * requests to whichever upstream offers them, and each tool says whether it supports tasks. Deciding it from
 * the upstreams would make every initialize wait for all of them (seconds, when one is down).
 */
export function federatedInitializeResult(
  requestedVersion: unknown,
  servers: readonly ServerDefinition[],
  separator: string,
  version: string,
): Record<string, unknown> {
  return {
    protocolVersion: negotiateVersion(requestedVersion),
    capabilities: { ...FederatedServerCapabilities, tasks: FederatedTasksCapability },
    serverInfo: { name: 'meshgate', version },
    instructions: federatedInstructions(servers, separator),
  };
}

/** Instructions listing the federated servers and the naming rules. */
export function federatedInstructions(servers: readonly ServerDefinition[], separator: string): string {
  const head =
    `Meshgate federates ${servers.length} MCP server${servers.length === 1 ? '' : 's'}. ` +
    `Tool and prompt names are "<server>${separator}<name>"; resource URIs are "<server>${UriSeparator}<uri>".`;
  if (servers.length === 0) return head;
  const lines = servers.map(
    (s) => `- ${s.name}${s.description ? `: ${s.description.replace(/\s+/g, ' ').slice(0, 300)}` : ''}`,
  );
  return `${head}\nServers:\n${lines.join('\n')}`;
}

/** How long a federated list may wait for upstreams: the configured deadline, cut by the call's deadline. */
export function listBudget(listDeadlineMs: number, callDeadline: number, now = Date.now()): number {
  return Math.max(0, Math.min(listDeadlineMs, callDeadline - now - ReplyMarginMs));
}

/** One upstream's share of a federated list: its items, or why it has none. */
export type Share<T> = { server: string; items: T[] } | { server: string; error: string };

/** Resolves with the items `fetching` gives within `ms`, else with the reason it did not. */
export function within<T>(server: string, fetching: Promise<T[]>, ms: number): Promise<Share<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Share<T>>((resolve) => {
    timer = setTimeout(() => resolve({ server, error: `no answer within ${ms} ms` }), ms);
  });
  const done = fetching.then(
    (items): Share<T> => ({ server, items }),
    (err: unknown): Share<T> => ({ server, error: err instanceof Error ? err.message : String(err) }),
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

/** Shares split into the lists that arrived and the upstreams that were unavailable. */
export function splitShares<T>(shares: readonly Share<T>[]): {
  lists: { server: string; items: T[] }[];
  unavailable: { server: string; error: string }[];
} {
  const lists: { server: string; items: T[] }[] = [];
  const unavailable: { server: string; error: string }[] = [];
  for (const share of shares) {
    if ('error' in share) unavailable.push(share);
    else lists.push(share);
  }
  return { lists, unavailable };
}
