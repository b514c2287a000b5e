/**
 * Which decision a request needs (ADR 004): the policy action and the resource it is about, named as the
 * upstream knows it, and the arguments policies may test. A request about no single thing (lists,
 * logging, tasks of the session's own calls, ping) needs none here (lists are filtered item by item); a
 * method outside MCP is not forwarded while policies are enforced, since no policy can speak of it (it
 * answers -32601 like an unknown method). Pure: no I/O.
 */
import type { PolicyAction, PolicyResource } from '@meshgate/contracts';
import type { ListItem, ListKind } from '@meshgate/mcp';

type Params = Record<string, unknown>;

/** The decision one request needs, none, or a refusal of an unknown method. */
export type RequiredDecision =
  | { kind: 'decide'; action: PolicyAction; resource: PolicyResource; arguments?: Params; tool?: string }
  | { kind: 'none' }
  | { kind: 'unknown-method' }
  | { kind: 'malformed' };

/** Methods an agent may send that concern the session or a whole list, not one tool, resource or prompt. */
const NoDecision = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'prompts/list',
  'resources/unsubscribe',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);

const isRecord = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined;

/**
 * The decision `method` with `params` (the upstream's own names, already de-namespaced) needs on `server`.
 * `malformed`: the request lacks the name it must carry, or it is too long to be judged; such a request is
 * never forwarded while policies are enforced.
 */
export function requiredDecision(
  server: string,
  method: string,
  params: Params | undefined,
): RequiredDecision {
  if (NoDecision.has(method)) return { kind: 'none' };
  const p = params ?? {};
  switch (method) {
    case 'tools/call': {
      const name = str(p['name'], 256);
      if (!name) return { kind: 'malformed' };
      return {
        kind: 'decide',
        action: 'call_tool',
        resource: { kind: 'tool', server, name },
        ...(isRecord(p['arguments']) ? { arguments: p['arguments'] } : {}),
        tool: name,
      };
    }
    case 'prompts/get': {
      const name = str(p['name'], 256);
      if (!name) return { kind: 'malformed' };
      return {
        kind: 'decide',
        action: 'get_prompt',
        resource: { kind: 'prompt', server, name },
        ...(isRecord(p['arguments']) ? { arguments: p['arguments'] } : {}),
      };
    }
    case 'resources/read':
    case 'resources/subscribe': {
      const uri = str(p['uri'], 2048);
      if (!uri) return { kind: 'malformed' };
      return {
        kind: 'decide',
        action: method === 'resources/read' ? 'read_resource' : 'subscribe_resource',
        resource: { kind: 'resource', server, name: uri },
      };
    }
    case 'completion/complete': {
      const ref = isRecord(p['ref']) ? p['ref'] : {};
      const argument = isRecord(p['argument']) ? { argument: p['argument'] } : undefined;
      if (ref['type'] === 'ref/prompt') {
        const name = str(ref['name'], 256);
        if (!name) return { kind: 'malformed' };
        return {
          kind: 'decide',
          action: 'complete',
          resource: { kind: 'prompt', server, name },
          ...(argument ? { arguments: argument } : {}),
        };
      }
      if (ref['type'] === 'ref/resource') {
        const uri = str(ref['uri'], 2048);
        if (!uri) return { kind: 'malformed' };
        return {
          kind: 'decide',
          action: 'complete',
          resource: { kind: 'resource', server, name: uri },
          ...(argument ? { arguments: argument } : {}),
        };
      }
      return { kind: 'malformed' };
    }
    default:
      return { kind: 'unknown-method' };
  }
}

/** The list action of each list kind, asked once per server. */
export const ListAction: Record<ListKind, PolicyAction> = {
  tools: 'list_tools',
  resources: 'list_resources',
  resourceTemplates: 'list_resources',
  prompts: 'list_prompts',
};

/**
 * What an item of a list is, for the decision that shows or hides it: an agent sees only what it may use
 * (call, read, get). Null for an item without its identifying string (it is hidden).
 */
export function itemDecision(
  kind: ListKind,
  server: string,
  item: ListItem,
): { action: PolicyAction; resource: PolicyResource; annotations?: Params } | null {
  switch (kind) {
    case 'tools': {
      const name = str(item['name'], 256);
      if (!name) return null;
      return {
        action: 'call_tool',
        resource: { kind: 'tool', server, name },
        ...(isRecord(item['annotations']) ? { annotations: item['annotations'] } : {}),
      };
    }
    case 'prompts': {
      const name = str(item['name'], 256);
      return name ? { action: 'get_prompt', resource: { kind: 'prompt', server, name } } : null;
    }
    case 'resources': {
      const uri = str(item['uri'], 2048);
      return uri ? { action: 'read_resource', resource: { kind: 'resource', server, name: uri } } : null;
    }
    case 'resourceTemplates': {
      const template = str(item['uriTemplate'], 2048);
      return template
        ? { action: 'read_resource', resource: { kind: 'resource', server, name: template } }
        : null;
    }
  }
}
