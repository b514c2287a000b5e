/**
 * Ingress <-> router payloads. The MCP message travels as parsed JSON inside one small envelope, encoded
 * once by the sender and decoded once by the receiver.
 */
import { z } from 'zod';
import { JsonRpcRequest, JsonRpcResponse, JsonRpcNotification } from './jsonrpc';
import { SessionInfo, SessionId } from './session';
import { isSubjectToken } from './subjects';

export const RouterCall = z.object({
  v: z.literal(1),
  session: SessionInfo,
  message: JsonRpcRequest,
  /** Subject on which messages related to this request (progress, sampling, logs) reach the agent. */
  stream: z.string().optional(),
  /** The agent's IP address as ingress saw it (policy context). */
  clientAddress: z.string().max(64).optional(),
  /**
   * The agent's own access token, when it authenticated with a JWT: only for an OAuth 2.0 token exchange
   * (RFC 8693) with a server's authorization server. It is never sent to an upstream MCP server.
   */
  subjectToken: z.string().max(16_384).optional(),
});
export type RouterCall = z.infer<typeof RouterCall>;

export const RouterReply = z.object({
  v: z.literal(1),
  /** The router replica that answered; ingress pins the session to it (a subject token of later calls). */
  router: z.string().refine(isSubjectToken, 'not a subject token'),
  message: JsonRpcResponse,
});
export type RouterReply = z.infer<typeof RouterReply>;

/** A message for the agent: a server-to-client request, a notification, or (never) a response. */
export const ToAgent = z.object({
  v: z.literal(1),
  message: z.union([JsonRpcRequest, JsonRpcNotification]),
});
export type ToAgent = z.infer<typeof ToAgent>;

/** A message from the agent for the upstream side: an answer to a server-to-client request, or a notification. */
export const ToUpstream = z.object({
  v: z.literal(1),
  sessionId: SessionId,
  message: z.union([JsonRpcResponse, JsonRpcNotification]),
});
export type ToUpstream = z.infer<typeof ToUpstream>;

/** Ids of server-to-client requests issued by the gateway carry the issuing router replica: `mg:<instance>:<n>`. */
export function gatewayRequestId(instance: string, n: number): string {
  return `mg:${instance}:${n}`;
}

export function parseGatewayRequestId(id: unknown): { instance: string; n: number } | null {
  if (typeof id !== 'string') return null;
  const m = /^mg:([A-Za-z0-9_-]{1,128}):(\d{1,15})$/.exec(id);
  return m ? { instance: m[1]!, n: Number(m[2]) } : null;
}

/** Published on `Subjects.sessionEnded`. */
export const SessionEnded = z.object({
  v: z.literal(1),
  sessionId: SessionId,
  reason: z.enum(['deleted', 'expired']),
});
export type SessionEnded = z.infer<typeof SessionEnded>;
