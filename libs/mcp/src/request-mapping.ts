/**
 * The reverse direction of federation: a request on the federated endpoint names a namespaced tool,
 * prompt, resource, completion reference or task; this finds the upstream server and rewrites the params
 * to the upstream's own names. Results and notifications coming back get their resource URIs and task ids
 * namespaced.
 */
import { ErrorCodes, type JsonRpcErrorObject } from '@meshgate/contracts';
import {
  splitName,
  splitTaskId,
  splitUri,
  namespaceUri,
  DefaultSeparator,
  type SplitName,
} from './namespacing';
import { namespaceResultTasks, namespaceTaskParams } from './task-mapping';

type Params = Record<string, unknown>;

/** Where a federated request goes: the server and the params with the upstream's own names, or why nowhere. */
export type RoutedRequest = { server: string; params: Params } | { error: JsonRpcErrorObject };

/** Methods whose target server is named inside their params. */
export const RoutedMethods = [
  'tools/call',
  'prompts/get',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'tasks/get',
  'tasks/result',
  'tasks/cancel',
] as const;

/** The error a routed method answers when its target is unknown: -32602 for names and tasks, -32002 for resources. */
export function unknownTargetError(method: string, params: Params | undefined): JsonRpcErrorObject {
  if (method.startsWith('tasks/'))
    return { code: ErrorCodes.InvalidParams, message: `unknown task: ${text(params?.['taskId'])}` };
  if (method === 'tools/call')
    return { code: ErrorCodes.InvalidParams, message: `unknown tool: ${text(params?.['name'])}` };
  if (method === 'prompts/get')
    return { code: ErrorCodes.InvalidParams, message: `unknown prompt: ${text(params?.['name'])}` };
  if (method.startsWith('resources/')) {
    const uri = text(params?.['uri']);
    return { code: ErrorCodes.ResourceNotFound, message: `resource not found: ${uri}`, data: { uri } };
  }
  const ref = params?.['ref'] as Params | undefined;
  return {
    code: ErrorCodes.InvalidParams,
    message: `unknown completion reference: ${text(ref?.['name'] ?? ref?.['uri'])}`,
  };
}

/**
 * Routes a request of the federated endpoint. Null for methods that name no server (lists, ping, ...).
 * The params are copied, never mutated; fields other than the rewritten name stay as they are.
 */
export function routeRequest(
  method: string,
  params: Params | undefined,
  sep: string = DefaultSeparator,
): RoutedRequest | null {
  const p = params ?? {};
  switch (method) {
    case 'tools/call':
    case 'prompts/get':
      return rewrite(method, p, 'name', (v) => splitName(v, sep));
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return rewrite(method, p, 'uri', splitUri);
    case 'completion/complete':
      return routeCompletion(p, sep);
    case 'tasks/get':
    case 'tasks/result':
    case 'tasks/cancel':
      return rewrite(method, p, 'taskId', (v) => splitTaskId(v, sep));
    default:
      return null;
  }
}

function rewrite(
  method: string,
  p: Params,
  field: string,
  split: (v: string) => SplitName | null,
): RoutedRequest {
  const value = p[field];
  const parts = typeof value === 'string' ? split(value) : null;
  if (!parts) return { error: unknownTargetError(method, p) };
  return { server: parts.server, params: { ...p, [field]: parts.name } };
}

function routeCompletion(p: Params, sep: string): RoutedRequest {
  const ref = p['ref'];
  if (typeof ref !== 'object' || ref === null) return { error: unknownTargetError('completion/complete', p) };
  const r = ref as Params;
  const field = r['type'] === 'ref/prompt' ? 'name' : r['type'] === 'ref/resource' ? 'uri' : null;
  const value = field ? r[field] : undefined;
  const parts =
    typeof value === 'string' ? (field === 'name' ? splitName(value, sep) : splitUri(value)) : null;
  if (!field || !parts) return { error: unknownTargetError('completion/complete', p) };
  return { server: parts.server, params: { ...p, ref: { ...r, [field]: parts.name } } };
}

/** Namespaces the resource URIs and task ids inside a result of `method` from `server`. */
export function namespaceResult(
  method: string,
  result: Params,
  server: string,
  sep: string = DefaultSeparator,
): Params {
  return namespaceResultTasks(method, namespaceResultUris(method, result, server), server, sep);
}

/**
 * Namespaces the resource URIs inside a result from `server`: resource contents of resources/read,
 * embedded resources and resource links in tool results (also those tasks/result answers) and prompt
 * messages. Everything else is kept.
 */
export function namespaceResultUris(method: string, result: Params, server: string): Params {
  switch (method) {
    case 'tools/call':
    case 'tasks/result':
      return mapArray(result, 'content', (c) => namespaceContent(c, server));
    case 'prompts/get':
      return mapArray(result, 'messages', (m) =>
        isObject(m['content']) ? { ...m, content: namespaceContent(m['content'], server) } : m,
      );
    case 'resources/read':
      return mapArray(result, 'contents', (c) => withUri(c, server));
    default:
      return result;
  }
}

/**
 * Namespaces the params of a notification from `server`: the URI of `notifications/resources/updated`,
 * the task id of `notifications/tasks/status` and the related-task `_meta` of any; the rest passes unchanged.
 */
export function namespaceNotificationParams(
  method: string,
  params: Params | undefined,
  server: string,
  sep: string = DefaultSeparator,
): Params | undefined {
  const withUris = method === 'notifications/resources/updated' && params ? withUri(params, server) : params;
  return namespaceTaskParams(method, withUris, server, sep);
}

function namespaceContent(content: Params, server: string): Params {
  if (content['type'] === 'resource_link') return withUri(content, server);
  if (content['type'] === 'resource' && isObject(content['resource']))
    return { ...content, resource: withUri(content['resource'], server) };
  return content;
}

function withUri(item: Params, server: string): Params {
  return typeof item['uri'] === 'string' ? { ...item, uri: namespaceUri(server, item['uri']) } : item;
}

function mapArray(result: Params, field: string, map: (item: Params) => Params): Params {
  const list = result[field];
  if (!Array.isArray(list)) return result;
  return { ...result, [field]: list.map((item: unknown) => (isObject(item) ? map(item) : item)) };
}

function isObject(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  if (typeof value === 'string') return value.slice(0, 200);
  return value === undefined ? '(missing)' : (JSON.stringify(value) ?? '(invalid)').slice(0, 200);
}
