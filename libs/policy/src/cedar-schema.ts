/**
 * The Cedar schema of Meshgate (namespace `Meshgate`): the entities a decision is about, the eight actions
 * and the resources each applies to, and the request context. Every policy set is validated against it in
 * strict mode before it is stored or installed, so a policy that names an unknown type, attribute or action,
 * or reads an optional value without testing for it, is refused when it is loaded, not when it is evaluated.
 *
 * Tool arguments are arbitrary JSON, which a Cedar record type cannot describe (open records are an
 * unreleased Cedar feature). They reach policies as entity tags instead: `context.arguments` holds every
 * value at its path (`path`, `options.mode`, `files.0`) as text, a string as itself and anything else as
 * its canonical JSON; `context.argumentNumbers` holds the integral numbers as Longs. A policy tests
 * `context.arguments.hasTag("path") && context.arguments.getTag("path") like "/tmp/*"`; the validator
 * insists on the `hasTag` guard. A `.` or `\` inside an argument's name is escaped with `\`.
 */
import type { PolicyAction, PolicyResource } from '@meshgate/contracts';

/** The Cedar namespace of every Meshgate type. */
export const CedarNamespace = 'Meshgate';

/** The kinds of resource a decision can be about (PolicyResource `kind`). */
export type ResourceKind = PolicyResource['kind'];

/** The Cedar entity type of each resource kind. */
export const ResourceEntityTypes: Readonly<Record<ResourceKind, string>> = {
  server: `${CedarNamespace}::Server`,
  tool: `${CedarNamespace}::Tool`,
  resource: `${CedarNamespace}::Resource`,
  prompt: `${CedarNamespace}::Prompt`,
};

/** The resource kinds each action applies to (the `appliesTo` of the schema). */
export const ActionResources: Readonly<Record<PolicyAction, readonly ResourceKind[]>> = {
  list_tools: ['server'],
  list_resources: ['server'],
  list_prompts: ['server'],
  call_tool: ['tool'],
  read_resource: ['resource'],
  subscribe_resource: ['resource'],
  get_prompt: ['prompt'],
  complete: ['prompt', 'resource'],
};

/** True when `action` can be asked about a resource of `kind` (else the request is malformed). */
export function actionAppliesTo(action: PolicyAction, kind: ResourceKind): boolean {
  return ActionResources[action].includes(kind);
}

/** The attributes of the request context, as policies name them (`context.<name>`). */
export const ContextAttributes = [
  'arguments',
  'argumentNumbers',
  'annotations',
  'serverTrust',
  'protocolVersion',
  'time',
  'clientAddress',
] as const;
export type ContextAttribute = (typeof ContextAttributes)[number];

/** The schema, in Cedar's schema syntax. */
export const MeshgateSchema = `namespace ${CedarNamespace} {
  entity Tenant;
  entity Role;
  entity Group in [Tenant];
  entity Principal in [Group, Role, Tenant] { id: String, tenant: String, kind: String };
  entity Server { name: String, trust: String };
  entity Tool in [Server] { name: String, server: String };
  entity Resource in [Server] { uri: String, server: String };
  entity Prompt in [Server] { name: String, server: String };
  entity Arguments tags String;
  entity ArgumentNumbers tags Long;
  type Annotations = {
    readOnlyHint?: Bool,
    destructiveHint?: Bool,
    idempotentHint?: Bool,
    openWorldHint?: Bool,
  };
  type RequestTime = { unix: Long, hour: Long, weekday: Long };
  type RequestContext = {
    arguments: Arguments,
    argumentNumbers: ArgumentNumbers,
    annotations: Annotations,
    serverTrust: String,
    protocolVersion: String,
    time: RequestTime,
    clientAddress?: ipaddr,
  };
  action list_tools, list_resources, list_prompts
    appliesTo { principal: Principal, resource: Server, context: RequestContext };
  action call_tool appliesTo { principal: Principal, resource: Tool, context: RequestContext };
  action read_resource, subscribe_resource
    appliesTo { principal: Principal, resource: Resource, context: RequestContext };
  action get_prompt appliesTo { principal: Principal, resource: Prompt, context: RequestContext };
  action complete appliesTo { principal: Principal, resource: [Prompt, Resource], context: RequestContext };
}
`;
