/**
 * Pure pieces of the federated endpoint: its InitializeResult (the gateway's own capabilities, and
 * instructions naming the servers behind it and how names are namespaced) and the time a federated
 * list may take.
 */
import type { ServerDefinition } from '@meshgate/contracts';
import { FederatedServerCapabilities, UriSeparator, negotiateVersion } from '@meshgate/mcp';

/** Time kept back from the call's deadline so the merged answer still reaches the caller in time. */
export const ReplyMarginMs = 50;

/** The InitializeResult of the federated endpoint. */
export function federatedInitializeResult(
  requestedVersion: unknown,
  servers: readonly ServerDefinition[],
  separator: string,
  version: string,
): Record<string, unknown> {
  return {
    protocolVersion: negotiateVersion(requestedVersion),
    capabilities: FederatedServerCapabilities,
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
