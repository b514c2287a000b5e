/**
 * What `meshgate start` prints once everything is ready: where agents connect, a client configuration to
 * paste, the admin API key (its text only when it was just created: shown once), and how to look around
 * with the MCP Inspector. Pure text, so it is tested as it reads.
 */
import type { AdminKeyNotice } from './admin-key';

export interface BannerInput {
  /** Base URL of ingress as a client on this machine reaches it. */
  ingressUrl: string;
  registryUrl: string;
  /** Upstream servers known to the registry, or null when they could not be listed. */
  servers: Array<{ name: string; transport: string; enabled: boolean }> | null;
  adminKey: AdminKeyNotice;
  /** Whether ingress authenticates the MCP endpoints (`MESHGATE_AUTH`). */
  auth: 'on' | 'none';
}

/** What the client configuration shows where the agent's own API key goes. */
export const KeyPlaceholder = '<agent API key>';

/**
 * The MCP client configuration (desktop-client `mcpServers` format) that connects to `mcpUrl`, sending
 * `Authorization: Bearer <apiKey>` when authentication is on.
 */
export function clientConfig(mcpUrl: string, apiKey?: string): string {
  const server =
    apiKey === undefined
      ? { type: 'http', url: mcpUrl }
      : { type: 'http', url: mcpUrl, headers: { Authorization: `Bearer ${apiKey}` } };
  return JSON.stringify({ mcpServers: { meshgate: server } });
}

/** The lines printed when the gateway is up. */
export function readyBanner(input: BannerInput): string {
  const mcpUrl = `${input.ingressUrl}/mcp`;
  const lines = [
    '',
    'Meshgate is ready.',
    '',
    `  MCP endpoint (all servers, federated):  ${mcpUrl}`,
    `  One server, names unchanged:            ${input.ingressUrl}/servers/<name>/mcp`,
    `  Registry API:                           ${input.registryUrl}/v1/servers`,
    '',
    ...serverLines(input),
    '',
    ...clientLines(input, mcpUrl),
    '',
    ...adminKeyLines(input.adminKey),
    '',
    'Look around with the MCP Inspector (needs Node 22 or newer):',
    `  npx @modelcontextprotocol/inspector --transport http --server-url ${mcpUrl}`,
    '',
    'Press Ctrl-C to stop everything.',
    '',
  ];
  return lines.join('\n');
}

function clientLines(input: BannerInput, mcpUrl: string): string[] {
  if (input.auth === 'none')
    return [
      'Client configuration to paste (Streamable HTTP):',
      `  ${clientConfig(mcpUrl)}`,
      'Authentication is OFF (MESHGATE_AUTH=none): every request runs as default/anonymous. Local trials only.',
    ];
  return [
    `Client configuration to paste (Streamable HTTP; put an agent's API key in place of ${KeyPlaceholder}):`,
    `  ${clientConfig(mcpUrl, KeyPlaceholder)}`,
    'Create an agent key with the admin key below:',
    '  meshgate keys create --tenant default --principal my-agent --kind agent --role agent',
  ];
}

function serverLines(input: BannerInput): string[] {
  if (input.servers === null) return ['  Upstream servers: could not be listed (see the registry log).'];
  if (input.servers.length === 0) {
    return [
      '  Upstream servers: none yet. Add one with: meshgate servers add <name> --command <cmd> | --url <url>',
    ];
  }
  const names = input.servers.map((s) => `${s.name} (${s.transport}${s.enabled ? '' : ', disabled'})`);
  return [`  Upstream servers: ${names.join(', ')}`];
}

function adminKeyLines(notice: AdminKeyNotice): string[] {
  switch (notice.kind) {
    case 'created':
      return [
        `admin API key (shown once): ${notice.apiKey}`,
        '  Keep it secret and safe: only its digest is stored. Use it with "meshgate keys ..." (--api-key or',
        '  MESHGATE_API_KEY); it is a platform-admin of every tenant.',
      ];
    case 'from-env':
      return ['admin API key: the one in MESHGATE_API_KEY (platform-admin).'];
    case 'existing':
      return [
        'admin API key: created on an earlier run and shown then. Set MESHGATE_API_KEY to it for "meshgate keys".',
      ];
  }
}
