/**
 * Ingress <-> ingress payloads: a call held open by one replica for a 2026-07-28 agent (multi round-trip
 * requests) is resumed with the agent's answers, or cancelled, by whichever replica the agent's retry
 * reached, on `Subjects.ingressResume(<holder>)`.
 */
import { z } from 'zod';
import { JsonRpcErrorObject } from './jsonrpc';

const HoldId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
const PrincipalRef = z.object({ tenant: z.string().min(1).max(256), id: z.string().min(1).max(256) });

/** The agent answered the input requests of round `round` (`responses` by input-request key). */
export const HoldResume = z.object({
  v: z.literal(1),
  op: z.literal('resume'),
  hold: HoldId,
  round: z.number().int().min(0),
  principal: PrincipalRef,
  responses: z.record(z.string().max(256), z.record(z.string(), z.unknown())),
  /** Where the holder publishes the call's notifications (`ToAgent`) while the resuming replica waits. */
  stream: z.string().max(256),
});
export type HoldResume = z.infer<typeof HoldResume>;

/** The agent went away while its retry waited: the held call ends and is cancelled upstream. */
export const HoldCancel = z.object({
  v: z.literal(1),
  op: z.literal('cancel'),
  hold: HoldId,
  principal: PrincipalRef,
});
export type HoldCancel = z.infer<typeof HoldCancel>;

export const HoldRequest = z.discriminatedUnion('op', [HoldResume, HoldCancel]);
export type HoldRequest = z.infer<typeof HoldRequest>;

/** One input request for the agent: a former server-to-client request, without JSON-RPC envelope. */
export const InputRequest = z.object({
  method: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type InputRequest = z.infer<typeof InputRequest>;

/** What became of a held call: its final outcome, more input needed, or the resume was refused. */
export const HoldOutcome = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('result'), result: z.record(z.string(), z.unknown()) }),
  z.object({ kind: z.literal('error'), error: JsonRpcErrorObject }),
  z.object({
    kind: z.literal('input_required'),
    inputRequests: z.record(z.string().max(256), InputRequest),
    requestState: z.string().max(16_384),
  }),
  z.object({ kind: z.literal('refused'), reason: z.string().max(200) }),
]);
export type HoldOutcome = z.infer<typeof HoldOutcome>;

export const HoldReply = z.object({ v: z.literal(1), outcome: HoldOutcome });
export type HoldReply = z.infer<typeof HoldReply>;
