/** The help text of `meshgate`: every command, option and variable it reads, with examples. */
import { DefaultRegistryUrl } from './args';

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
  meshgate help

Options of "servers":
  --registry-url <url>   registry REST API (env MESHGATE_REGISTRY_URL, default ${DefaultRegistryUrl})

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

Exit codes: 0 success, 1 failure, 2 usage error.
`;
