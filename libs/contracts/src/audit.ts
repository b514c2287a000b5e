/**
 * The audit event, schema version 1: what every service publishes to the JetStream stream `MG_AUDIT` on
 * `mg.audit.<tenant>.<kind>` (one event per step of a request), and what security teams consume. Its JSON
 * Schema is published in docs/schemas/ for consumers in other languages; a test keeps the two equal.
 * Arguments never travel in clear: a digest of their canonical form (RFC 8785) and a redacted copy.
 */
import { z } from 'zod';
import { ServerName } from './servers';
import { isSubjectToken } from './subjects';

/** What a step was. Kebab-case, so that each kind is one subject token. */
export const AuditKind = z.enum([
  'request-received',
  'authentication',
  'policy-decision',
  'inspection-finding',
  'cache-hit',
  'cache-miss',
  'upstream-call',
  'response-sent',
]);
export type AuditKind = z.infer<typeof AuditKind>;

/**
 * A tenant id: one subject token, lower case. `platform` is reserved: it names the policy set that applies
 * to every tenant (libs/contracts policy.ts), so no tenant may be called that.
 */
export const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and "-", starting with a letter or digit')
  .refine((t) => t !== 'platform', '"platform" is reserved for the policy set of every tenant');
export type TenantId = z.infer<typeof TenantId>;

/** The tenant of every request until tenants are configured. */
export const DefaultTenant = 'default';

/** Arguments as the trail keeps them: a digest of the canonical JSON and a copy with secrets redacted. */
export const AuditArguments = z.object({
  /** `sha256:<hex>` of the RFC 8785 canonical form of the arguments as received. */
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** The arguments with every value under a secret-looking key replaced by "[redacted]". */
  redacted: z.unknown(),
});
export type AuditArguments = z.infer<typeof AuditArguments>;

export const AuditOutcome = z.enum(['ok', 'error', 'denied', 'blocked', 'timeout', 'cancelled']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/** Fields every event carries. */
const Envelope = {
  /** Schema version of this event. */
  v: z.literal(1),
  /** Unique event id (UUID); also the `Nats-Msg-Id` that makes publishing idempotent. */
  id: z.uuid(),
  time: z.iso.datetime({ offset: true }),
  tenant: TenantId,
  principal: z.string().max(256).optional(),
  session: z.string().max(64).optional(),
  /** W3C trace id (32 hex digits) shared by every event of one request. */
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  /** Who published it. */
  service: z.enum(['ingress', 'policy', 'router', 'cache', 'inspector', 'registry', 'audit']),
  instance: z.string().max(64),
  /** The JSON-RPC method and id of the agent's request, when the step belongs to one. */
  method: z.string().max(256).optional(),
  requestId: z.union([z.string().max(256), z.number()]).optional(),
  server: ServerName.optional(),
  /** Tool, prompt or resource the request names, as the upstream knows it. */
  target: z.string().max(1024).optional(),
};

const ErrorDetail = z.object({ code: z.number().int(), message: z.string().max(1024) });

/** Fields of a step that took time and ended somehow: an upstream call, a response sent. */
const Timed = {
  latencyMs: z.number().nonnegative(),
  sizeBytes: z.number().int().nonnegative(),
  outcome: AuditOutcome,
  error: ErrorDetail.optional(),
};

/**
 * `shape` with its fields in sorted order: zod writes a parsed object's fields in the order of its schema,
 * so an event parsed through these is in canonical key order already (RFC 8785, which the audit chain
 * hashes), and writing its canonical form copies nothing but the arguments a caller passed unsorted.
 */
function sortedShape<T extends z.ZodRawShape>(shape: T): T {
  return Object.fromEntries(Object.entries(shape).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}

export const AuditEvent = z.discriminatedUnion('kind', [
  z.object(
    sortedShape({
      ...Envelope,
      kind: z.literal('request-received'),
      arguments: AuditArguments.optional(),
      protocolVersion: z.string().max(32).optional(),
      clientAddress: z.string().max(64).optional(),
    }),
  ),
  z.object(
    sortedShape({
      ...Envelope,
      kind: z.literal('authentication'),
      scheme: z.enum(['api-key', 'jwt', 'oauth', 'none']),
      outcome: z.enum(['ok', 'denied']),
      reason: z.string().max(512).optional(),
    }),
  ),
  z.object(
    sortedShape({
      ...Envelope,
      kind: z.literal('policy-decision'),
      effect: z.enum(['allow', 'deny']),
      policies: z.array(z.string().max(256)).max(64),
      reason: z.string().max(512).optional(),
    }),
  ),
  z.object(
    sortedShape({
      ...Envelope,
      kind: z.literal('inspection-finding'),
      phase: z.enum(['request', 'response', 'definitions']),
      rule: z.string().max(256),
      severity: z.enum(['info', 'low', 'medium', 'high', 'critical']),
      action: z.enum(['allow', 'redact', 'block']),
      detail: z.string().max(1024).optional(),
    }),
  ),
  z.object(
    sortedShape({
      ...Envelope,
      kind: z.literal('cache-hit'),
      key: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    }),
  ),
  z.object(
    sortedShape({
      ...Envelope,
      kind: z.literal('cache-miss'),
      key: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    }),
  ),
  z.object(sortedShape({ ...Envelope, kind: z.literal('upstream-call'), ...Timed })),
  z.object(sortedShape({ ...Envelope, kind: z.literal('response-sent'), ...Timed })),
]);
export type AuditEvent = z.infer<typeof AuditEvent>;

/** The events of one kind. */
export type AuditEventOf<K extends AuditEvent['kind']> = Extract<AuditEvent, { kind: K }>;

/** The JetStream stream of the trail and its subjects: `mg.audit.<tenant>.<kind>`. */
export const AuditStream = 'MG_AUDIT';
export const AuditSubjects = {
  all: 'mg.audit.>',
  of(tenant: string, kind: AuditKind): string {
    if (!isSubjectToken(tenant))
      throw new Error(`invalid tenant token: ${JSON.stringify(tenant.slice(0, 64))}`);
    return `mg.audit.${tenant}.${kind}`;
  },
  /** Every kind of one tenant, for a consumer's filter. */
  tenant(tenant: string): string {
    if (!isSubjectToken(tenant))
      throw new Error(`invalid tenant token: ${JSON.stringify(tenant.slice(0, 64))}`);
    return `mg.audit.${tenant}.>`;
  },
} as const;

/** The most events one message of the audit stream carries. */
export const MAX_BATCH_EVENTS = 256;

/**
 * A batch message of the audit stream: events of one tenant and one kind that a service published within a
 * few milliseconds of each other, sent as one message on `mg.audit.<tenant>.<kind>` with `Nats-Msg-Id =
 * batch`, so that the stream and every consumer pay per message, not per event (ADR 003). A message of the
 * stream is either one AuditEvent (as earlier builds and other publishers send) or one AuditBatch.
 */
export const AuditBatch = z
  .object({
    batch: z.uuid(),
    events: z.array(AuditEvent).min(1).max(MAX_BATCH_EVENTS),
  })
  .refine(({ events }) => events.every((e) => e.tenant === events[0]?.tenant && e.kind === events[0]?.kind), {
    message: 'every event of a batch has the same tenant and kind',
    path: ['events'],
  });
export type AuditBatch = z.infer<typeof AuditBatch>;

/** One message of the audit stream, as consumers read it: a single event or a batch. */
export const AuditMessage = z.union([AuditEvent, AuditBatch]);
export type AuditMessage = z.infer<typeof AuditMessage>;

/** The events of a valid message, in order. */
export function eventsOf(message: AuditMessage): AuditEvent[] {
  return 'batch' in message ? message.events : [message];
}
