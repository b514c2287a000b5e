/**
 * Test harness: the smallest federated endpoint in front of one fixture server, in memory. It namespaces
 * the fixture's names the way Meshgate's `/mcp` does (tools and prompts `<server>__<name>`, URIs and URI
 * templates `<server>+<uri>`, `uri` fields inside results and notifications too), lists one name of another
 * server beside each list, and answers initialize with its own server info. It exists to show that the
 * feature suite passes in federated mode; it is not the gateway's implementation.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { createFeatureServer } from '../src/index';

type Json = Record<string, unknown>;

/** The result fields whose resource URIs are namespaced: tool content, prompt messages, read contents. */
const URI_CARRIERS = new Set(['content', 'messages', 'contents']);

/** Rewrites every string under a `uri` or `uriTemplate` key, at any depth. */
function mapUris(value: unknown, map: (uri: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => mapUris(item, map));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) =>
      (key === 'uri' || key === 'uriTemplate') && typeof item === 'string'
        ? [key, map(item)]
        : [key, mapUris(item, map)],
    ),
  );
}

/** The relay's server info, answered to initialize. */
export const RELAY_INFO = { name: 'meshgate', version: '0.0.0-relay' };

/** Connects a fixture server behind a namespacing relay for `server`; returns the transport to probe with. */
export async function federatedFixture(server: string): Promise<InMemoryTransport> {
  const [agent, down] = InMemoryTransport.createLinkedPair();
  const [up, fixture] = InMemoryTransport.createLinkedPair();
  await createFeatureServer().connect(fixture);
  const strip = (prefix: string, wire: string) =>
    wire.startsWith(prefix) ? wire.slice(prefix.length) : wire;
  const name = (n: unknown) => `${server}__${String(n)}`;
  const unname = (n: unknown) => strip(`${server}__`, String(n));
  const uriOut = (uri: string) => `${server}+${uri}`;
  const uriIn = (uri: string) => strip(`${server}+`, uri);
  const pending = new Map<RequestId, string>();
  let closed = false;
  const forward = (to: InMemoryTransport, message: JSONRPCMessage) => {
    if (!closed) void to.send(message);
  };

  const inward = (method: string, params: Json = {}): Json => {
    if (method === 'tools/call' || method === 'prompts/get')
      return { ...params, name: unname(params['name']) };
    if (method === 'completion/complete') {
      const ref = params['ref'] as Json;
      return {
        ...params,
        ref: ref['type'] === 'ref/prompt' ? { ...ref, name: unname(ref['name']) } : mapUris(ref, uriIn),
      };
    }
    return typeof params['uri'] === 'string' ? { ...params, uri: uriIn(params['uri']) } : params;
  };
  const outward = (method: string, result: Json): Json => {
    switch (method) {
      case 'initialize':
        return {
          protocolVersion: result['protocolVersion'],
          capabilities: result['capabilities'],
          serverInfo: RELAY_INFO,
        };
      case 'tools/list':
      case 'prompts/list': {
        const key = method === 'tools/list' ? 'tools' : 'prompts';
        const items = (result[key] as Json[]).map((item) => ({ ...item, name: name(item['name']) }));
        return { ...result, [key]: [{ ...items[0], name: 'other__foreign' }, ...items] };
      }
      case 'resources/list':
      case 'resources/templates/list': {
        const key = method === 'resources/list' ? 'resources' : 'resourceTemplates';
        const items = mapUris(result[key], uriOut) as Json[];
        const foreign = key === 'resources' ? { uri: 'other+x://y' } : { uriTemplate: 'other+x://{y}' };
        return { ...result, [key]: [...items, { ...items[0], ...foreign }] };
      }
      default:
        return Object.fromEntries(
          Object.entries(result).map(([key, item]) => [
            key,
            URI_CARRIERS.has(key) ? mapUris(item, uriOut) : item,
          ]),
        );
    }
  };

  down.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message)) pending.set(message.id, message.method);
    const forwarded = isJSONRPCRequest(message)
      ? { ...message, params: inward(message.method, message.params) }
      : message;
    forward(up, forwarded);
  };
  up.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const method = message.id === undefined ? undefined : pending.get(message.id);
      if (method !== undefined && message.id !== undefined) pending.delete(message.id);
      if (method !== undefined && isJSONRPCResultResponse(message))
        return forward(down, { ...message, result: outward(method, message.result) });
    }
    const updated = isJSONRPCNotification(message) && message.method === 'notifications/resources/updated';
    forward(down, updated ? (mapUris(message, uriOut) as JSONRPCMessage) : message);
  };
  down.onclose = () => {
    closed = true;
    void up.close();
  };
  await Promise.all([down.start(), up.start()]);
  return agent;
}
