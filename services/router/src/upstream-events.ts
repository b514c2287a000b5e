/**
 * What the router does with messages its upstreams send on their own: server-to-client requests go to the
 * agent they are attributed to (or are refused upstream when nobody can tell whose they are); progress and
 * logs of a call go to that call's stream; list_changed, resources/updated and unrelated logs go to the
 * sessions using that upstream on their to-agent subject, with URIs namespaced for federated sessions.
 */
import type { Logger } from '@meshgate/config';
import { ErrorCodes, Subjects, type JsonRpcNotification } from '@meshgate/contracts';
import {
  clientCannotAnswer,
  isLevelEnabled,
  listChangedKinds,
  namespaceNotificationParams,
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
}

/** The hooks every upstream connection of the replica reports to. */
export function upstreamEvents(deps: UpstreamEventDeps): ConnectionHooks {
  const { sessions, serverRequests, publish } = deps;

  const audience = (conn: UpstreamConnection): SessionState[] => {
    if (conn.owner === undefined) return sessions.using(conn.server);
    const owner = sessions.get(conn.owner);
    return owner ? [owner] : [];
  };

  const send = (subject: string, session: SessionState, server: string, n: JsonRpcNotification) => {
    const params =
      session.info.target.kind === 'federated'
        ? namespaceNotificationParams(n.method, n.params, server)
        : n.params;
    publish(subject, { jsonrpc: '2.0', method: n.method, ...(params ? { params } : {}) });
  };

  return {
    serverRequest(conn, request, attribution) {
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
      const cannot = clientCannotAnswer(request.method, session.info.clientCapabilities);
      if (cannot)
        return conn.respond(request.id, { error: { code: ErrorCodes.MethodNotFound, message: cannot } });
      serverRequests.relay(conn, request, session.info.id, subjectOf(attribution, session.info.id));
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
      const sessionId = listChangedKinds(n.method).length > 0 ? undefined : attributedSession(attribution);
      const attributed = sessionId === undefined ? undefined : sessions.get(sessionId);
      const targets = sessionId === undefined ? audience(conn) : attributed ? [attributed] : [];
      for (const s of targets) {
        if (n.method === 'notifications/message' && !isLevelEnabled(n.params?.['level'], s.level)) continue;
        send(
          subjectOf(sessionId === undefined ? { kind: 'none' } : attribution, s.info.id),
          s,
          conn.server,
          n,
        );
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

/** Where a message attributed this way goes: the call's stream, else the session's to-agent subject. */
function subjectOf(attribution: Attribution, sessionId: string): string {
  if (attribution.kind === 'call' && attribution.origin.stream !== undefined)
    return attribution.origin.stream;
  return Subjects.sessionToAgent(sessionId);
}
