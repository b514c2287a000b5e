/**
 * Federated lists: the tools, resources, resource templates and prompts of several upstreams merged into
 * one namespaced list. Only the identifying field of each item is rewritten (`name`, `uri` or
 * `uriTemplate`); every other field (title, annotations, icons, schemas with all their JSON Schema
 * keywords, `_meta`) passes through untouched.
 */
import { namespaceName, namespaceUri, DefaultSeparator } from './namespacing';

/** The four list kinds, named like the result field that carries each list. */
export type ListKind = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';

/** The list method of each kind. */
export const ListMethods: Record<ListKind, string> = {
  tools: 'tools/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
  prompts: 'prompts/list',
};

/** The server capability an upstream must declare to offer each kind. */
export const ListCapabilities: Record<ListKind, 'tools' | 'resources' | 'prompts'> = {
  tools: 'tools',
  resources: 'resources',
  resourceTemplates: 'resources',
  prompts: 'prompts',
};

/** The list kind a method lists, or null when the method is not a list method. */
export function listKindOf(method: string): ListKind | null {
  for (const [kind, m] of Object.entries(ListMethods) as [ListKind, string][]) if (m === method) return kind;
  return null;
}

/** The list kind whose `notifications/<x>/list_changed` this is, or null. Resources cover templates too. */
export function listChangedKinds(method: string): ListKind[] {
  switch (method) {
    case 'notifications/tools/list_changed':
      return ['tools'];
    case 'notifications/resources/list_changed':
      return ['resources', 'resourceTemplates'];
    case 'notifications/prompts/list_changed':
      return ['prompts'];
    default:
      return [];
  }
}

/** A list item as an upstream sent it: an object whose fields the gateway does not interpret. */
export type ListItem = Record<string, unknown>;

/** Namespaces one item of `kind` coming from `server`; items without the identifying string are returned as is. */
export function namespaceItem(
  kind: ListKind,
  server: string,
  item: ListItem,
  sep: string = DefaultSeparator,
): ListItem {
  switch (kind) {
    case 'tools':
    case 'prompts':
      return typeof item['name'] === 'string'
        ? { ...item, name: namespaceName(server, item['name'], sep) }
        : item;
    case 'resources':
      return typeof item['uri'] === 'string' ? { ...item, uri: namespaceUri(server, item['uri']) } : item;
    case 'resourceTemplates':
      return typeof item['uriTemplate'] === 'string'
        ? { ...item, uriTemplate: namespaceUri(server, item['uriTemplate']) }
        : item;
  }
}

/** The items of one upstream's list. */
export interface ServerList {
  server: string;
  items: readonly ListItem[];
}

/**
 * Merges the lists of several servers into one namespaced list, in the order the servers are given and,
 * within a server, in the upstream's own order. Items that are not objects are dropped.
 */
export function mergeLists(
  kind: ListKind,
  lists: readonly ServerList[],
  sep: string = DefaultSeparator,
): ListItem[] {
  const merged: ListItem[] = [];
  for (const { server, items } of lists) {
    for (const item of items) {
      if (typeof item === 'object' && item !== null && !Array.isArray(item))
        merged.push(namespaceItem(kind, server, item, sep));
    }
  }
  return merged;
}
