/**
 * What a connection does with each message its upstream sends: an answer settles its request in the relay
 * table (an invalid one fails it at once rather than at its timeout); progress goes to the call that owns
 * the token, with the agent's own token (or to the task it reports on); a task a call created is booked
 * as its answer arrives; list changes empty the list cache; every other notification and
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
import { createdTaskId, isTerminalTaskStatus, listChangedKinds, type ListKind } from '@meshgate/mcp';
import { attribute, type Attribution } from './attribution';
import type { RelayTable } from './relay-table';
import type { TaskBook } from './task-book';

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
  /** The tasks agent calls created through the connection (booked as the answer arrives). */
  tasks: TaskBook;
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
    if (m.result) bookTask(intake, m.id, m.result);
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
          : intake.tasks.progressRoute(token);
    if (!route) return;
    intake.notification(
      { ...n, params: { ...n.params, progressToken: route.agentToken } },
      route.attribution,
    );
    return;
  }
  if (n.method === 'notifications/tasks/status' && isTerminalTaskStatus(n.params?.['status']))
    intake.tasks.ended(n.params?.['taskId']);
  intake.listsChanged(listChangedKinds(n.method));
  intake.notification(n, attribution(intake, related));
}

/**
 * Books the task a task-augmented agent call created to the call's session, with the call's progress token
 * (the upstream reports the task's progress on it for the task's whole life). Done as the answer arrives,
 * so that whatever the upstream sends next about the task already finds it.
 */
function bookTask(intake: Intake, id: JsonRpcId | null, result: Record<string, unknown>): void {
  const p = intake.table.get(id);
  if (!p?.origin || p.message.params?.['task'] === undefined) return;
  const taskId = createdTaskId(result);
  if (taskId === undefined) return;
  const { token, agentToken } = p;
  const progress =
    token !== undefined && agentToken !== undefined ? { upstreamToken: token, agentToken } : undefined;
  intake.tasks.record(taskId, p.origin.sessionId, progress, p.origin);
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
