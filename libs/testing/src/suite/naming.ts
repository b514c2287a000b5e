/**
 * How the names the fixture server gives look on the endpoint a probe talks to, both ways. A per-server
 * endpoint passes them unchanged; a federated endpoint namespaces tools and prompts as `<server><sep><name>`
 * and resource URIs and URI templates as `<server>+<uri>`, and lists other servers' names beside them.
 * The suite encodes this convention on its own, so a gateway that breaks it fails the suite.
 */

/** One kind of name, mapped between the fixture's own form and the form on the wire. */
export interface NameMapping {
  /** The wire form of the fixture's `name`. */
  readonly toWire: (name: string) => string;
  /** The fixture's own name behind `wire`, or undefined when `wire` is not one of the fixture's names. */
  readonly fromWire: (wire: string) => string | undefined;
}

/** The mappings of every kind of name the suite sends or checks. */
export interface Naming {
  readonly tool: NameMapping;
  readonly prompt: NameMapping;
  /** Resource URIs, in requests, lists, notifications and inside results. */
  readonly uri: NameMapping;
  /** Resource URI templates, in templates/list and completion references. */
  readonly uriTemplate: NameMapping;
}

const SERVER_NAME = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;
const SERVER_NAME_CHARACTER = /[a-zA-Z0-9-]/;

const identity: NameMapping = { toWire: (name) => name, fromWire: (wire) => wire };

/** Names as a per-server endpoint (`/servers/<name>/mcp`) or the fixture itself shows them: unchanged. */
export const perServerNaming: Naming = {
  tool: identity,
  prompt: identity,
  uri: identity,
  uriTemplate: identity,
};

function prefixed(prefix: string): NameMapping {
  return {
    toWire: (name) => `${prefix}${name}`,
    fromWire: (wire) =>
      wire.startsWith(prefix) && wire.length > prefix.length ? wire.slice(prefix.length) : undefined,
  };
}

/**
 * Names as a federated endpoint (`/mcp`) shows those of upstream `server`: tools and prompts
 * `<server><sep><name>`, URIs and URI templates `<server>+<uri>`. Throws on a server name that is not
 * letters, digits and `-` starting with a letter, or on a separator that is empty or holds such characters
 * (the namespacing would not be reversible).
 */
export function federatedNaming(server: string, sep = '__'): Naming {
  if (!SERVER_NAME.test(server))
    throw new Error(
      `invalid server name ${JSON.stringify(server)}: use letters, digits and -, first a letter`,
    );
  if (sep.length === 0 || SERVER_NAME_CHARACTER.test(sep))
    throw new Error(`invalid separator ${JSON.stringify(sep)}: non-empty, without letters, digits or -`);
  const names = prefixed(`${server}${sep}`);
  const uris = prefixed(`${server}+`);
  return { tool: names, prompt: names, uri: uris, uriTemplate: uris };
}

/** The fixture's own names among `wires`, in order, other servers' names left out. */
export function fixtureNames(mapping: NameMapping, wires: readonly string[]): string[] {
  return wires.flatMap((wire) => {
    const own = mapping.fromWire(wire);
    return own === undefined ? [] : [own];
  });
}
