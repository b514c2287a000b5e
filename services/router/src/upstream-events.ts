/**
 * What the router does with messages its upstreams send on their own: server-to-client requests go to the
 * agent they are attributed to (or are refused upstream when nobody can tell whose they are); progress and
 * logs of a call go to that call's stream; list_changed, resources/updated, unrelated logs and any other
 * notification go to the sessions using that upstream on their to-agent subject, unless calls of several
 * sessions were in flight on a shared connection (it may be about one of them: dropped). A message about a task
 * (notifications/tasks/status, or one whose `_meta` names a related task) goes only to the session that
 * created the task, and to the call the gateway polls it for when the agent cannot use tasks (its status is
 * then not sent at all). URIs and task ids are namespaced for federated sessions. Everything is converted
 * for the agent's era and capabilities (libs/mcp era-requests): a request it cannot answer is answered
 * upstream with the error the agent would give, a notification it cannot read is dropped.
 */
import type { Logger } from '@meshgate/config';
import { ErrorCodes, Subjects, type JsonRpcNotification, type JsonRpcRequest } from '@meshgate/contracts';
import {
  RelatedTaskMetaKey,
  isLevelEnabled,
  listChangedKinds,
  namespaceNotificationParams,
  namespaceTaskParams,
  notificationForAgent,
  relatedTaskId,
  requestForAgent,
} from '@meshgate/mcp';
import type { ConnectionHooks, UpstreamConnection } from './upstream/connection';
import { attributedSession, type Attribution } from './upstream/attribution';
import type { ServerRequests, AgentPublisher } from './server-requests';
import type { Sessions, SessionState } from './sessions';

/** The three list_changed notifications sent after a definition change or a re-initialised upstream. */
export const ListChangedMethods = [
  'notifications/tools/list_changed',
  'notifications/resources/list_changed',
  'notifications/prompts/list_changed',
] as const;

/** What the upstream event hooks act on. */
export interface UpstreamEventDeps {
  sessions: Sessions;
  serverRequests: ServerRequests;
  publish: AgentPublisher;
  log: Logger;
  /** The namespace separator of federated sessions. */
  separator: string;
}

/** The hooks every upstream connection of the replica reports to. */
export function upstreamEvents(deps: UpstreamEventDeps): ConnectionHooks {
  const { sessions, serverRequests, publish, separator } = deps;

  const audience = (conn: UpstreamConnection): SessionState[] => {
    if (conn.owner === undefined) return sessions.using(conn.server);
    const owner = sessions.get(conn.owner);
    return owner ? [owner] : [];
  };

  const send = (subject: string, session: SessionState, server: string, n: JsonRpcNotification) => {
    const forAgent = notificationForAgent(n.method, n.params, session.info);
    if (!forAgent) return;
    const params =
      session.info.target.kind === 'federated'
        ? namespaceNotificationParams(n.method, forAgent.params, server, separator)
        : forAgent.params;
    publish(subject, { jsonrpc: '2.0', method: n.method, ...(params ? { params } : {}) });
  };

  /**
   * Who gets a notification that is not about one call's state, and how it was attributed (a call's
   * stream, else the to-agent subject): a task's status and messages of a task go to the session that
   * created the task; list_changed and unattributed ones to every session using the upstream; one that
   * arrived while calls of several sessions were in flight (ambiguous) to nobody.
   */
  const recipients = (
    conn: UpstreamConnection,
    n: JsonRpcNotification,
    attribution: Attribution,
  ): { targets: SessionState[]; via: Attribution } => {
    const taskId = relatedTaskId(n.method, n.params);
    const held = conn.tasks.heldBy(taskId);
    if (held) {
      // A task the gateway polls for an agent without tasks: its status is the gateway's business.
      if (n.method === 'notifications/tasks/status') return { targets: [], via: Unattributed };
      const s = sessions.get(held.sessionId);
      return { targets: s ? [s] : [], via: { kind: 'call', origin: held } };
    }
    const owner = taskId === undefined ? undefined : (conn.owner ?? conn.tasks.ownerOf(taskId));
    if (owner !== undefined || n.method === 'notifications/tasks/status') {
      const s = owner === undefined ? undefined : sessions.get(owner);
      return {
        targets: s ? [s] : [],
        via: attributedSession(attribution) === owner ? attribution : Unattributed,
      };
    }
    if (listChangedKinds(n.method).length > 0) return { targets: audience(conn), via: Unattributed };
    // Calls of several sessions are in flight: the message may carry one of them's data, so nobody gets it.
    if (attribution.kind === 'ambiguous') return { targets: [], via: attribution };
    const sessionId = attributedSession(attribution);
    if (sessionId === undefined) return { targets: audience(conn), via: Unattributed };
    const s = sessions.get(sessionId);
    return { targets: s ? [s] : [], via: attribution };
  };

  return {
    serverRequest(conn, request, attributed) {
      const attribution =
        attributedSession(attributed) === undefined ? byTask(conn, request, attributed) : attributed;
      const sessionId = attributedSession(attribution);
      const session = sessionId === undefined ? undefined : sessions.get(sessionId);
      if (!session) {
        if (request.method === 'ping') return conn.respond(request.id, { result: {} });
        const message =
          attribution.kind === 'ambiguous'
            ? `meshgate cannot tell which client session ${request.method} belongs to`
            : `no client session to relay ${request.method} to`;
        deps.log.warn(
          { server: conn.server, method: request.method, attribution: attribution.kind },
          'server-to-client request refused',
        );
        return conn.respond(request.id, { error: { code: ErrorCodes.InternalError, message } });
      }
      const plan = requestForAgent(request.method, request.params, session.info);
      if (plan.kind === 'refuse') return conn.respond(request.id, { error: plan.error });
      const own = withoutHeldTask(conn, plan.params);
      const params =
        session.info.target.kind === 'federated'
          ? namespaceTaskParams(request.method, own, conn.server, separator)
          : own;
      const relayed = { ...request, ...(params ? { params } : {}) };
      serverRequests.relay(
        conn,
        relayed,
        session.info.id,
        subjectOf(attribution, session.info.id),
        plan.answer,
      );
    },

    notification(conn, n, attribution) {
      if (n.method === 'notifications/cancelled')
        return serverRequests.upstreamCancelled(conn, n.params?.['requestId'], n.params?.['reason']);
      if (n.method === 'notifications/resources/updated') {
        const uri = n.params?.['uri'];
        const subscribers = typeof uri === 'string' ? conn.subscriptions.subscribers(uri) : [];
        for (const id of subscribers) {
          const s = sessions.get(id);
          if (s) send(Subjects.sessionToAgent(id), s, conn.server, n);
        }
        return;
      }
      const { targets, via } = recipients(conn, n, attribution);
      if (targets.length === 0 && n.method === 'notifications/tasks/status')
        deps.log.debug({ server: conn.server }, 'status of a task of no known session dropped');
      else if (via.kind === 'ambiguous')
        deps.log.debug(
          { server: conn.server, method: n.method },
          'notification of no single session dropped',
        );
      const params = withoutHeldTask(conn, n.params);
      const message = params === n.params ? n : { ...n, params };
      for (const s of targets) {
        if (n.method === 'notifications/message' && !isLevelEnabled(n.params?.['level'], s.level)) continue;
        send(subjectOf(via, s.info.id), s, conn.server, message);
      }
    },

    reconnected(conn) {
      for (const s of audience(conn))
        for (const method of ListChangedMethods)
          publish(Subjects.sessionToAgent(s.info.id), { jsonrpc: '2.0', method });
    },

    down(conn, reason) {
      serverRequests.dropConnection(conn, `upstream ${conn.server} unavailable: ${reason}`);
    },
  };
}

/** No attribution: the message goes to the session's to-agent subject. */
const Unattributed: Attribution = { kind: 'none' };

/**
 * The session owning the task a server-to-client request is about, when the wire named no session (the
 * call the gateway polls it for, when it does).
 */
function byTask(conn: UpstreamConnection, request: JsonRpcRequest, attribution: Attribution): Attribution {
  const taskId = relatedTaskId(request.method, request.params);
  const held = conn.tasks.heldBy(taskId);
  if (held) return { kind: 'call', origin: held };
  const owner = taskId === undefined ? undefined : (conn.owner ?? conn.tasks.ownerOf(taskId));
  return owner === undefined ? attribution : { kind: 'session', sessionId: owner };
}

/** Where a message attributed this way goes: the call's stream, else the session's to-agent subject. */
function subjectOf(attribution: Attribution, sessionId: string): string {
  if (attribution.kind === 'call' && attribution.origin.stream !== undefined)
    return attribution.origin.stream;
  return Subjects.sessionToAgent(sessionId);
}

/** `params` without the related-task `_meta` when it names a task the gateway holds (the agent never saw it). */
function withoutHeldTask(
  conn: UpstreamConnection,
  params: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const meta = params?.['_meta'];
  if (!params || typeof meta !== 'object' || meta === null || Array.isArray(meta)) return params;
  const related = (meta as Record<string, unknown>)[RelatedTaskMetaKey] as { taskId?: unknown } | undefined;
  if (!conn.tasks.heldBy(related?.taskId)) return params;
  const rest = Object.fromEntries(Object.entries(meta).filter(([k]) => k !== RelatedTaskMetaKey));
  if (Object.keys(rest).length > 0) return { ...params, _meta: rest };
  return Object.fromEntries(Object.entries(params).filter(([k]) => k !== '_meta'));
}
