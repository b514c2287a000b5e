/** The help text of `meshgate`: every command, option and variable it reads, with examples. */
import { DefaultRegistryUrl } from './args';
import { DefaultAuditUrl } from './commands/audit';
import { DefaultIngressUrl } from './commands/keys';
import { DefaultPolicyUrl } from './commands/policies';

/** Printed by `meshgate help`, and after a usage error. */
export const Usage = `meshgate: run and administer the Meshgate MCP gateway

Usage:
  meshgate start [--json-logs]
      Start NATS (when none answers), then registry, audit, router and ingress; Ctrl-C stops them all.
      On the first run it creates an admin API key and prints it once (or uses MESHGATE_API_KEY).
      --json-logs   show the services' logs as raw JSON lines instead of "time level message"
  meshgate servers list [--json]
  meshgate servers get <name>
  meshgate servers add <name> --command <cmd> [--arg <arg>]... [--env KEY=VALUE]...
  meshgate servers add <name> --url <url> [--type http|sse]
  meshgate servers remove <name>
      Manage the upstream MCP servers in the registry. An argument that starts with "-" is
      written with "=": --arg=-y. --type http (default) is Streamable HTTP, sse is legacy HTTP+SSE.
  meshgate keys create --tenant <t> --principal <id> --role <role>... [--kind user|agent|service]
                      [--group <g>]... [--expires-in-days <n>] [--description <text>] [--json]
  meshgate keys list [--tenant <t>] [--json]
  meshgate keys rotate <key id> [--grace-seconds <n>] [--expires-in-days <n>] [--json]
  meshgate keys revoke <key id> [--json]
      Manage API keys. Roles: platform-admin (every tenant), admin (its tenant), auditor (reads its
      tenant's audit trail), agent (uses MCP tools). A key's text is printed once, when it is issued;
      only its digest is stored. --kind defaults to user; without --expires-in-days a key does not
      expire. rotate issues a new key with the same roles and revokes the old one (after the grace
      period; a rotated key keeps its lifetime unless --expires-in-days is given).
  meshgate upstream-tokens put <server> --token-file <path | -> [--json]
  meshgate upstream-tokens status <server> [--json]
  meshgate upstream-tokens delete <server> [--json]
      Your own token for an upstream server whose definition says auth: {type: principal-token}: the
      gateway sends it upstream on your calls. put reads it from a file, or from standard input with
      "--token-file -"; it is stored encrypted and never shown again (status tells only when it was
      stored). It is stored for the principal of --api-key (an API key, or a JWT access token).
  meshgate audit query --tenant <t> [filters] [--limit <n>] [--json]
  meshgate audit tail --tenant <t> [filters] [--json]
  meshgate audit verify --tenant <t> [--json]
      Read the audit trail: matching events (default at most 100), new events as they are archived
      (until Ctrl-C), or a check of the tenant's hash chain and signed checkpoints (exit 1 when it fails).
      filters: --from <iso> --to <iso> --principal <p> --server <s> --target <t> --kind <kind>
               --outcome <outcome> --trace-id <32 hex>
  meshgate policies list [--json]
  meshgate policies get <set> [--json]
  meshgate policies validate <set> --file <path.cedar> [--json]
  meshgate policies put <set> --file <path.cedar> [--json]
  meshgate policies delete <set> [--json]
      Manage the Cedar policy sets: "platform" (every tenant; platform-admin only) or a tenant's own
      (its admin). put validates first and prints each error as <file>:<line>:<column>; nothing is
      stored unless the whole set is valid. The platform set can be replaced, not deleted.
  meshgate limits get [--json]
  meshgate limits put <file.json> [--json]
      Read or replace the rate limits, concurrency limits and daily quotas every router enforces
      (platform-admin only). get prints a table, or with --json the limits as a file put accepts;
      put checks the file first and prints each problem as <file>: <path>: <message>; nothing is
      stored unless the whole file is valid. {"v": 1, "rules": []} limits nothing.
  meshgate help

Options of "servers":
  --registry-url <url>   registry REST API (env MESHGATE_REGISTRY_URL, default ${DefaultRegistryUrl})

Options of "keys":
  --ingress-url <url>    ingress, which serves the keys admin API (env MESHGATE_INGRESS_URL, default ${DefaultIngressUrl})
  --api-key <key>        an admin or platform-admin API key (env MESHGATE_API_KEY)

Options of "upstream-tokens":
  --ingress-url <url>    ingress, which serves the upstream tokens API (env MESHGATE_INGRESS_URL, default ${DefaultIngressUrl})
  --api-key <key>        your API key or access token; the token is stored for you (env MESHGATE_API_KEY)

Options of "policies" and "limits":
  --policy-url <url>     policy service admin API (env MESHGATE_POLICY_URL, default ${DefaultPolicyUrl})
  --api-key <key>        an admin or platform-admin API key (env MESHGATE_API_KEY; limits: platform-admin)

Options of "audit":
  --audit-url <url>      audit API (env MESHGATE_AUDIT_URL, default ${DefaultAuditUrl})
  --api-key <key>        an API key that may read the tenant's audit trail (env MESHGATE_API_KEY)

Environment read by "start":
  NATS_URL          NATS to use or start (default nats://127.0.0.1:4222)
  HOST, PORT        where ingress listens (default 127.0.0.1:8080)
  REGISTRY_HOST, REGISTRY_PORT   where the registry listens (default 127.0.0.1:8081)
  MESHGATE_CONFIG   servers file in the "mcpServers" format (default ./meshgate.yaml); when it does
                    not exist the registry starts with the demo upstream (server-everything)
  LOG_LEVEL         services' log level (default info)
  MESHGATE_API_KEY  the admin key (mgk_<16 hex>_<43 base64url>, e.g. printed by an earlier run):
                    recorded as platform-admin of tenant "default" instead of creating a new one

Examples:
  meshgate servers add fs --command npx --arg=-y --arg @modelcontextprotocol/server-filesystem --arg /tmp
  meshgate servers add docs --url https://example.com/mcp
  meshgate servers remove fs
  meshgate keys create --tenant acme --principal ci-bot --kind agent --role agent --expires-in-days 90
  meshgate keys create --tenant acme --principal secops --role auditor
  meshgate upstream-tokens put github --token-file ~/.config/github-token
  meshgate audit query --tenant default --kind response-sent --from 2026-11-24T00:00:00Z
  meshgate policies put acme --file policies/acme.cedar
  meshgate limits put limits.json

Exit codes: 0 success, 1 failure, 2 usage error.
`;
