/**
 * Capabilities on both sides of the gateway: what it declares as a client to every upstream (so upstreams
 * may use sampling, elicitation and roots, which it relays to the agent), what it declares as the server of
 * the federated endpoint, and which agent capability each server-to-client request needs.
 */

/** The client capabilities the gateway declares in its own initialize to upstreams. */
export const GatewayClientCapabilities: Record<string, unknown> = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

/** The server capabilities of the federated endpoint. */
export const FederatedServerCapabilities: Record<string, unknown> = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  logging: {},
  completions: {},
};

/** The server-to-client requests the gateway relays, and the client capability each one needs. */
const Required: Record<string, string | null> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
  ping: null,
};

/** True when the gateway relays server-to-client requests of `method` to agents. */
export function isRelayedClientMethod(method: string): boolean {
  return Object.hasOwn(Required, method);
}

/**
 * Null when an agent with `clientCapabilities` can answer a server-to-client request of `method` with
 * `params`, else the reason it cannot: the method is not relayed, the agent did not declare the capability it
 * needs, or the request uses a part of it the agent did not declare (an elicitation mode, sampling with tools),
 * which a server must not send to such a client (MCP 2025-11-25).
 */
export function clientCannotAnswer(
  method: string,
  clientCapabilities: Record<string, unknown>,
  params?: Record<string, unknown>,
): string | null {
  if (!Object.hasOwn(Required, method)) return `the gateway does not relay ${method}`;
  const capability = Required[method];
  if (capability && clientCapabilities[capability] === undefined)
    return `the client did not declare the ${capability} capability`;
  if (method === 'elicitation/create') {
    const mode = typeof params?.['mode'] === 'string' ? params['mode'] : 'form';
    if (!elicitationModes(clientCapabilities['elicitation']).includes(mode))
      return `the client did not declare ${mode} elicitation`;
  }
  if (
    method === 'sampling/createMessage' &&
    usesTools(params) &&
    !hasField(clientCapabilities['sampling'], 'tools')
  )
    return 'the client did not declare sampling with tools';
  return null;
}

/** The elicitation modes a capability declares; an empty object means form only (backwards compatibility). */
function elicitationModes(capability: unknown): string[] {
  if (!isObject(capability)) return [];
  if (Object.keys(capability).length === 0) return ['form'];
  return ['form', 'url'].filter((mode) => hasField(capability, mode));
}

function usesTools(params: Record<string, unknown> | undefined): boolean {
  return params?.['tools'] !== undefined || params?.['toolChoice'] !== undefined;
}

function hasField(value: unknown, field: string): boolean {
  return isObject(value) && value[field] !== undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
