/**
 * What a connection does with each message its upstream sends: an answer settles its request in the relay
 * table (an invalid one fails it at once rather than at its timeout); progress goes to the call that owns
 * the token, with the agent's own token; list changes empty the list cache; every other notification and
 * every server-to-client request goes to the router, attributed (attribution) to a call or a session.
 * Messages of a modern upstream's listen stream are taken by it first.
 */
import type { Logger } from '@meshgate/config';
import {
  ErrorCodes,
  classify,
  type JsonRpcErrorObject,
  type JsonRpcId,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from '@meshgate/contracts';
import { isTerminalTaskStatus, listChangedKinds, type ListKind } from '@meshgate/mcp';
import { attribute, type Attribution } from './attribution';
import type { RelayTable } from './relay-table';

/** Where a connection's upstream messages go. */
export interface Intake {
  server: string;
  /** The session owning the connection, if any. */
  owner: string | undefined;
  table: RelayTable;
  log: Logger;
  /** Takes a message of the connection's own (the listen stream); true when it must go no further. */
  consume(raw: unknown): boolean;
  listsChanged(kinds: readonly ListKind[]): void;
  /** Sees each successful answer before it settles its request (tasks created by agent calls are booked). */
  answered(id: JsonRpcId | null, result: Record<string, unknown>): void;
  /** Where progress on a token no request in flight owns goes: a task's progress, reported for its life. */
  taskProgress(token: unknown): { agentToken: JsonRpcId; attribution: Attribution } | undefined;
  /** A task reached a terminal status. */
  taskEnded(taskId: unknown): void;
  serverRequest(request: JsonRpcRequest, attribution: Attribution): void;
  notification(notification: JsonRpcNotification, attribution: Attribution): void;
}

/** Handles one message; `related` is the id of the request on whose response stream it came, if known. */
export function takeIn(intake: Intake, raw: unknown, related: JsonRpcId | undefined): void {
  if (intake.consume(raw)) return;
  const c = classify(raw);
  if (c.kind === 'response') {
    const m = c.message as {
      id: JsonRpcId | null;
      result?: Record<string, unknown>;
      error?: JsonRpcErrorObject;
    };
    if (m.result) intake.answered(m.id, m.result);
    intake.table.settle(m.id, m.error ? { error: m.error } : { result: m.result ?? {} });
  } else if (c.kind === 'request') {
    intake.serverRequest(c.message, attribution(intake, related));
  } else if (c.kind === 'notification') {
    notification(intake, c.message, related);
  } else {
    intake.log.warn({ reason: c.reason }, 'upstream sent an invalid JSON-RPC message');
    // An invalid answer to a request in flight fails that call now rather than at its timeout.
    if (isAnswer(raw))
      intake.table.settle(c.id, {
        error: {
          code: ErrorCodes.InternalError,
          message: `upstream ${intake.server} sent an invalid response: ${c.reason}`,
        },
      });
  }
}

function notification(intake: Intake, n: JsonRpcNotification, related: JsonRpcId | undefined): void {
  if (n.method === 'notifications/progress') {
    const token = n.params?.['progressToken'];
    const p = intake.table.byToken(token);
    const route =
      p?.origin && p.agentToken !== undefined
        ? { agentToken: p.agentToken, attribution: { kind: 'call', origin: p.origin } as const }
        : p
          ? undefined
          : intake.taskProgress(token);
    if (!route) return;
    intake.notification(
      { ...n, params: { ...n.params, progressToken: route.agentToken } },
      route.attribution,
    );
    return;
  }
  if (n.method === 'notifications/tasks/status' && isTerminalTaskStatus(n.params?.['status']))
    intake.taskEnded(n.params?.['taskId']);
  intake.listsChanged(listChangedKinds(n.method));
  intake.notification(n, attribution(intake, related));
}

function attribution(intake: Intake, related: JsonRpcId | undefined): Attribution {
  const exact = related === undefined ? undefined : (intake.table.get(related)?.origin ?? null);
  return attribute(exact, intake.owner, intake.table.origins());
}

/** True when an upstream message looks like a response (it carries a result or an error and no method). */
function isAnswer(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || 'method' in raw) return false;
  return 'result' in raw || 'error' in raw;
}
