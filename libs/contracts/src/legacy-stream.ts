/**
 * The legacy HTTP+SSE transport (spec 2024-11-05) across ingress replicas. The agent's GET stream lives on
 * one replica; its POSTs may land on any. Before it accepts a POST, the receiving replica asks the stream's
 * replica (`Subjects.sessionLegacyAttach`) whether that stream is open, for this principal and endpoint;
 * then it runs the exchange and publishes every message for the agent, the response included, on
 * `Subjects.sessionToLegacyAgent`, which the stream's replica writes as `event: message`.
 */
import { z } from 'zod';
import { Principal } from './auth';
import { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from './jsonrpc';
import { Target } from './session';

/** May a POST of this principal, on this endpoint, use the legacy stream? */
export const LegacyAttach = z.object({
  v: z.literal(1),
  principal: Principal.pick({ tenant: true, id: true }),
  target: Target,
  /** The POST carries `initialize`: the stream no longer waits for one. */
  initialize: z.boolean(),
});
export type LegacyAttach = z.infer<typeof LegacyAttach>;

/** `attached` is false for a stream opened by another principal or on another endpoint. */
export const LegacyAttachReply = z.object({ v: z.literal(1), attached: z.boolean() });
export type LegacyAttachReply = z.infer<typeof LegacyAttachReply>;

/** A message for a legacy HTTP+SSE agent: a response, a server-to-client request or a notification. */
export const ToLegacyAgent = z.object({
  v: z.literal(1),
  message: z.union([JsonRpcRequest, JsonRpcResponse, JsonRpcNotification]),
});
export type ToLegacyAgent = z.infer<typeof ToLegacyAgent>;
