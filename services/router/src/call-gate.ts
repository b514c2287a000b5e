/**
 * The authorization gate of the router (ADR 004), between routing and the upstream: a request about one
 * tool, resource or prompt is decided by policy and then admitted by the limits; lists are filtered so an
 * agent sees only what it may use. A denied request about something the agent cannot see is answered
 * exactly as an unknown one; a visible thing denied for these arguments gets -32007 with a short reason,
 * never the policy text. Every decision on a request is published to the audit trail with the policies
 * that made it; a filtered list publishes one decision naming how much it hid.
 */
import { ErrorCodes, LimitExceeded, type JsonRpcErrorObject, type SessionInfo } from '@meshgate/contracts';
import { ListMethods, unknownTargetError, type ListItem, type ListKind } from '@meshgate/mcp';
import type { CallContext } from './call-context';
import { ListAction, itemDecision, requiredDecision } from './policy-mapping';
import type { UpstreamConnection } from './upstream/connection';
import type { CallOrigin, Outcome } from './upstream/relay-table';

/** What the gate lets through (with the limit slot to release when the call ends), or the answer. */
export type Gated = { ok: true; release(): void } | { ok: false; outcome: Outcome };

const Open: Gated = { ok: true, release: () => {} };

/** The call a request belongs to: its session, its origin, and where the agent connected from. */
export interface GateCall {
  session: SessionInfo;
  origin: CallOrigin;
  clientAddress: string | undefined;
}

/** How long a first call may wait for the upstream's tool list, whose annotations policies can test. */
const AnnotationsBudgetMs = 1_000;

/**
 * Gates one request for `server` whose `params` carry the upstream's own names; `agentParams` are the
 * params as the agent sent them (its names), for an answer identical to the one for an unknown target.
 */
export async function gateRequest(
  ctx: CallContext,
  call: GateCall,
  server: string,
  method: string,
  params: Record<string, unknown> | undefined,
  agentParams: Record<string, unknown> | undefined,
  conn: UpstreamConnection,
): Promise<Gated> {
  const authz = ctx.authz;
  if (!authz.enforcing) return Open;
  // Whether decisions can be trusted at all was checked once for the call (call-handler.ts).
  const { session, origin, clientAddress } = call;
  const need = requiredDecision(server, method, params);
  switch (need.kind) {
    case 'none':
      return Open;
    case 'malformed':
      // Without a name no decision can be made, so nothing is forwarded: it answers like an unknown target.
      return { ok: false, outcome: { error: unknownTargetError(method, agentParams) } };
    case 'unknown-method':
      // No policy can speak of a method outside MCP: it is not forwarded, and answers like an unknown one.
      return refuse(ErrorCodes.MethodNotFound, `method not found: ${method.slice(0, 128)}`);
  }
  // Looked up only when a policy in force tests them: otherwise the decision is the same without them.
  const annotations =
    need.action === 'call_tool' && authz.readsAnnotations(session)
      ? await toolAnnotations(conn, need.resource)
      : undefined;
  const base = {
    ...(annotations ? { annotations } : {}),
    ...(clientAddress ? { clientAddress } : {}),
  };
  const facts = need.arguments ? { ...base, arguments: need.arguments } : base;
  const decision = authz.decide(session, need.action, need.resource, facts);
  const target = need.resource.kind === 'server' ? undefined : need.resource.name;
  ctx.auditDecision(origin, session, server, method, target, decision);
  if (decision.effect === 'deny') {
    // Hidden (denied even without these arguments, as in a list): the agent learns nothing it could not list.
    const visible =
      need.arguments !== undefined &&
      authz.decide(session, need.action, need.resource, base).effect === 'allow';
    return visible
      ? refuse(ErrorCodes.Forbidden, `${decision.reason}`)
      : { ok: false, outcome: { error: unknownTargetError(method, agentParams) } };
  }
  const admitting = authz.admit(session, server, need.tool);
  const admission = admitting instanceof Promise ? await admitting : admitting;
  if (admission.ok) return admission;
  const data = LimitExceeded.safeParse(admission.exceeded);
  const code = admission.unavailable ? ErrorCodes.ServiceUnavailable : ErrorCodes.RateLimited;
  return {
    ok: false,
    outcome: { error: { code, message: admission.message, ...(data.success ? { data: data.data } : {}) } },
  };
}

/**
 * The items of one upstream's list of `kind` that `session` may see: the list action on the server, then
 * the use of each item (call, read, get). Publishes one decision event for the list.
 */
export function filterList(
  ctx: CallContext,
  call: GateCall,
  server: string,
  kind: ListKind,
  items: readonly ListItem[],
): ListItem[] {
  const authz = ctx.authz;
  if (!authz.enforcing) return [...items];
  if (authz.unavailable()) return [];
  const { session, origin, clientAddress } = call;
  const facts = clientAddress ? { clientAddress } : {};
  const listing = authz.decide(session, ListAction[kind], { kind: 'server', server }, facts);
  const shown =
    listing.effect === 'deny'
      ? []
      : items.filter((item) => {
          const d = itemDecision(kind, server, item);
          if (!d) return false;
          const annotations = d.annotations ? { annotations: d.annotations } : {};
          return authz.decide(session, d.action, d.resource, { ...facts, ...annotations }).effect === 'allow';
        });
  ctx.auditDecision(origin, session, server, ListMethods[kind], undefined, {
    ...listing,
    reason: `${listing.reason}; ${shown.length} of ${items.length} ${kind} shown`,
  });
  return shown;
}

/** The annotations of the tool `resource` names, from the upstream's (cached) tool list; none in time: none. */
async function toolAnnotations(
  conn: UpstreamConnection,
  resource: { kind: string; name?: string },
): Promise<Record<string, unknown> | undefined> {
  try {
    const tools = await conn.list('tools', Date.now() + AnnotationsBudgetMs);
    const tool = tools.find((t) => t['name'] === resource.name);
    const annotations = tool?.['annotations'];
    return typeof annotations === 'object' && annotations !== null && !Array.isArray(annotations)
      ? (annotations as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function refuse(code: number, message: string): Gated {
  const error: JsonRpcErrorObject = { code, message };
  return { ok: false, outcome: { error } };
}
