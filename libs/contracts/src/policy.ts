/**
 * Authorization (issue 4): what a decision is asked about and what it answers, the policy sets the policy
 * service keeps in KV `mg_policies` and pushes to every replica, the limits declared beside them, and the
 * heartbeat by which a policy replica vouches that the sets are current. Decisions are made in Cedar over
 * the entities and actions below (libs/policy holds the Cedar schema that spells them).
 */
import { z } from 'zod';
import { TenantId } from './audit';
import { Principal } from './auth';
import { ServerName } from './servers';

/** The actions a policy can allow or deny (Cedar `Meshgate::Action::"<name>"`). */
export const PolicyAction = z.enum([
  'list_tools',
  'call_tool',
  'list_resources',
  'read_resource',
  'subscribe_resource',
  'list_prompts',
  'get_prompt',
  'complete',
]);
export type PolicyAction = z.infer<typeof PolicyAction>;

/**
 * What an action is about: a server (the list actions), or one tool, resource (by URI) or prompt of a
 * server, named as the upstream knows it (never the federated, namespaced name).
 */
export const PolicyResource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('server'), server: ServerName }),
  z.object({ kind: z.literal('tool'), server: ServerName, name: z.string().min(1).max(256) }),
  z.object({ kind: z.literal('resource'), server: ServerName, name: z.string().min(1).max(2048) }),
  z.object({ kind: z.literal('prompt'), server: ServerName, name: z.string().min(1).max(256) }),
]);
export type PolicyResource = z.infer<typeof PolicyResource>;

/** Tool annotations as policies see them (absent hints are absent, not false). */
export const PolicyAnnotations = z.object({
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});
export type PolicyAnnotations = z.infer<typeof PolicyAnnotations>;

/** How far the gateway trusts a server (registry verification). */
export const ServerTrust = z.enum(['verified', 'internal', 'unverified']);
export type ServerTrust = z.infer<typeof ServerTrust>;

/** The context of one decision. */
export const PolicyContext = z.object({
  /** The call's arguments (tools/call, prompts/get), as sent; JSON. */
  arguments: z.record(z.string(), z.unknown()).optional(),
  annotations: PolicyAnnotations.optional(),
  serverTrust: ServerTrust.optional(),
  protocolVersion: z.string().max(32).optional(),
  /** The instant of the request (epoch ms); the decision sees hour and weekday in UTC too. */
  time: z.number().int().nonnegative(),
  /** The agent's IP address as ingress saw it. */
  clientAddress: z.string().max(64).optional(),
});
export type PolicyContext = z.infer<typeof PolicyContext>;

/** One decision to make. */
export const DecisionRequest = z.object({
  v: z.literal(1),
  principal: Principal,
  action: PolicyAction,
  resource: PolicyResource,
  context: PolicyContext,
});
export type DecisionRequest = z.infer<typeof DecisionRequest>;

/** The answer: the effect, the ids of the policies that decided it, and a short reason fit for an agent. */
export const DecisionReply = z.object({
  v: z.literal(1),
  effect: z.enum(['allow', 'deny']),
  /** Ids of the determining policies (`<set>/<policy id>`); empty on a default deny. */
  policies: z.array(z.string().max(256)),
  /** Short and policy-free, e.g. "denied by policy" or "no policy permits call_tool". */
  reason: z.string().max(512),
  /** The revision of the tenant's policy set the decision was made on. */
  revision: z.number().int().nonnegative(),
});
export type DecisionReply = z.infer<typeof DecisionReply>;

/**
 * The name of a policy set: `platform` (applies to every tenant) or a tenant's own (applies to its
 * principals only, so one tenant's policies can never reach another's requests).
 */
export const PolicySetName = z.union([z.literal('platform'), TenantId]);
export type PolicySetName = z.infer<typeof PolicySetName>;

/** The text of one policy set and where it came from (KV `mg_policies`, key `set.<name>`). */
export const PolicySetRecord = z.object({
  v: z.literal(1),
  name: PolicySetName,
  /** Cedar policy text, validated against the Meshgate schema before it was stored. */
  text: z.string().max(1_000_000),
  /** Where the text came from: a file path, or `api:<principal ref>`. */
  source: z.string().max(1024),
  updatedAt: z.iso.datetime({ offset: true }),
  /** SHA-256 of `text`, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PolicySetRecord = z.infer<typeof PolicySetRecord>;

/** Published by every policy replica each second: the sets it has validated and serves are current. */
export const PolicyHeartbeat = z.object({
  v: z.literal(1),
  instance: z.string().max(64),
  /** The KV revision of the policy bucket the replica has seen last. */
  revision: z.number().int().nonnegative(),
  time: z.number().int().nonnegative(),
});
export type PolicyHeartbeat = z.infer<typeof PolicyHeartbeat>;
