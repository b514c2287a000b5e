/**
 * Names on the federated endpoint: tools and prompts become `<server><sep><name>`, resource URIs and URI
 * templates become `<server>+<uri>`, task ids `<server><sep><taskId>`. Server names start with a letter and hold only letters, digits and
 * `-`, so neither the separator (which must not be one of those characters) nor `+` can occur inside a
 * server name and splitting at the first occurrence is unambiguous.
 */

const SERVER = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;

/** The default separator between a server name and a tool or prompt name. */
export const DefaultSeparator = '__';

/** The separator between a server name and a resource URI; it also makes `<server>+<scheme>` a valid URI scheme. */
export const UriSeparator = '+';

/** A name or URI split back into the server it came from and the upstream's own name. */
export interface SplitName {
  server: string;
  name: string;
}

/** True when `server` is a valid server name (the same rule as `ServerName` in contracts). */
export function isServerName(server: string): boolean {
  return SERVER.test(server);
}

/**
 * Checks a separator: non-empty, at most 8 characters, and holding none of the characters a server name
 * may hold, so that the first occurrence always ends the server name.
 */
export function isValidSeparator(sep: string): boolean {
  return sep.length > 0 && sep.length <= 8 && !/[a-zA-Z0-9-]/.test(sep);
}

/** `<server><sep><name>`. */
export function namespaceName(server: string, name: string, sep: string = DefaultSeparator): string {
  return `${server}${sep}${name}`;
}

/** Splits `<server><sep><name>` at the first separator; null when there is none or the parts are invalid. */
export function splitName(namespaced: string, sep: string = DefaultSeparator): SplitName | null {
  const at = namespaced.indexOf(sep);
  if (at <= 0) return null;
  const server = namespaced.slice(0, at);
  const name = namespaced.slice(at + sep.length);
  if (!isServerName(server) || name.length === 0) return null;
  return { server, name };
}

/** `<server>+<uri>`; works for URI templates as well. */
export function namespaceUri(server: string, uri: string): string {
  return `${server}${UriSeparator}${uri}`;
}

/** Splits `<server>+<uri>` at the first `+`; null when there is none or the parts are invalid. */
export function splitUri(namespaced: string): SplitName | null {
  return splitName(namespaced, UriSeparator);
}

/** `<server><sep><taskId>`: a task id of `server` as the federated endpoint shows it. */
export function namespaceTaskId(server: string, taskId: string, sep: string = DefaultSeparator): string {
  return namespaceName(server, taskId, sep);
}

/** Splits `<server><sep><taskId>` at the first separator; null when there is none or the parts are invalid. */
export function splitTaskId(namespaced: string, sep: string = DefaultSeparator): SplitName | null {
  return splitName(namespaced, sep);
}
