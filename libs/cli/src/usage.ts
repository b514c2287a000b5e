/** The help text of `meshgate`: every command, option and variable it reads, with examples. */
import { DefaultRegistryUrl } from './args';
import { DefaultAuditUrl } from './commands/audit';

/** Printed by `meshgate help`, and after a usage error. */
export const Usage = `meshgate: run and administer the Meshgate MCP gateway

Usage:
  meshgate start [--json-logs]
      Start NATS (when none answers), then registry, router and ingress; Ctrl-C stops them all.
      --json-logs   show the services' logs as raw JSON lines instead of "time level message"
  meshgate servers list [--json]
  meshgate servers get <name>
  meshgate servers add <name> --command <cmd> [--arg <arg>]... [--env KEY=VALUE]...
  meshgate servers add <name> --url <url> [--type http|sse]
  meshgate servers remove <name>
      Manage the upstream MCP servers in the registry. An argument that starts with "-" is
      written with "=": --arg=-y. --type http (default) is Streamable HTTP, sse is legacy HTTP+SSE.
  meshgate audit query --tenant <t> [filters] [--limit <n>] [--json]
  meshgate audit tail --tenant <t> [filters] [--json]
  meshgate audit verify --tenant <t> [--json]
      Read the audit trail: matching events (default at most 100), new events as they are archived
      (until Ctrl-C), or a check of the tenant's hash chain and signed checkpoints (exit 1 when it fails).
      filters: --from <iso> --to <iso> --principal <p> --server <s> --target <t> --kind <kind>
               --outcome <outcome> --trace-id <32 hex>
  meshgate help

Options of "servers":
  --registry-url <url>   registry REST API (env MESHGATE_REGISTRY_URL, default ${DefaultRegistryUrl})

Options of "audit":
  --audit-url <url>      audit API (env MESHGATE_AUDIT_URL, default ${DefaultAuditUrl})
  --token <token>        auditor token of the tenant, when the API requires one (env MESHGATE_AUDIT_TOKEN)

Environment read by "start":
  NATS_URL          NATS to use or start (default nats://127.0.0.1:4222)
  HOST, PORT        where ingress listens (default 127.0.0.1:8080)
  REGISTRY_HOST, REGISTRY_PORT   where the registry listens (default 127.0.0.1:8081)
  MESHGATE_CONFIG   servers file in the "mcpServers" format (default ./meshgate.yaml); when it does
                    not exist the registry starts with the demo upstream (server-everything)
  LOG_LEVEL         services' log level (default info)

Examples:
  meshgate servers add fs --command npx --arg=-y --arg @modelcontextprotocol/server-filesystem --arg /tmp
  meshgate servers add docs --url https://example.com/mcp
  meshgate servers remove fs
  meshgate audit query --tenant default --kind response-sent --from 2026-11-24T00:00:00Z

Exit codes: 0 success, 1 failure, 2 usage error.
`;
