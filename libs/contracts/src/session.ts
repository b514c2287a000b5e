/**
 * Agent sessions. The record lives in NATS KV so that any ingress replica can serve any POST of a session;
 * `router` pins the session to the router replica that holds its upstream state, and is re-pinned on failover.
 */
import { z } from 'zod';
import { Principal } from './auth';
import { ServerName } from './servers';
import { isSubjectToken } from './subjects';

/** What the agent reaches: the federated endpoint, or one upstream with its names unchanged. */
export const Target = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('federated') }),
  z.object({ kind: z.literal('server'), server: ServerName }),
]);
export type Target = z.infer<typeof Target>;

export const SessionId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'malformed session id');
export type SessionId = z.infer<typeof SessionId>;

export const ClientInfo = z.looseObject({ name: z.string(), version: z.string() });
export type ClientInfo = z.infer<typeof ClientInfo>;

/** What a router needs to know of a session on every call. */
export const SessionInfo = z.object({
  id: SessionId,
  protocolVersion: z.string().max(32),
  clientCapabilities: z.record(z.string(), z.unknown()),
  clientInfo: ClientInfo.optional(),
  target: Target,
  /**
   * Who opened the session; every later request of it must come from the same principal (tenant and id),
   * and the router acts for it (audit trail, per-principal upstream credentials).
   */
  principal: Principal,
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const SessionRecord = z.object({
  v: z.literal(1),
  session: SessionInfo,
  /** The router replica holding this session's upstream state. */
  router: z.string().refine(isSubjectToken, 'not a subject token'),
  createdAt: z.number().int(),
});
export type SessionRecord = z.infer<typeof SessionRecord>;
