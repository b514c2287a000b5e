/**
 * Messages from agents that are not calls: answers to server-to-client requests (on this replica's
 * `to-upstream` subject), session notifications (cancelled, roots/list_changed; every replica hears them
 * and only those knowing the session act), and the end of a session (its upstream state is released). A
 * cancelled call whose upstream task the router polls stops the polling, which cancels the task.
 */
import type { Logger } from '@meshgate/config';
import type { JsonRpcNotification, SessionEnded, ToUpstream } from '@meshgate/contracts';
import type { ConnectionPool } from './upstream/pool';
import type { ServerRequests } from './server-requests';
import type { TaskPolls } from './task-polls';
import { reaches, type Sessions } from './sessions';

/** What the agent-message handlers act on. */
export interface AgentMessageDeps {
  sessions: Sessions;
  pool: ConnectionPool;
  serverRequests: ServerRequests;
  taskPolls: TaskPolls;
  log: Logger;
}

/** Handlers of the agent messages a router replica subscribes to. */
export interface AgentMessages {
  /** On `routerToUpstream(instance)`: the agent answered a request this replica relayed. */
  answer(payload: ToUpstream): void;
  /** On `sessionToUpstream(sid)` for a session id taken from the subject. */
  notification(subjectSessionId: string, payload: ToUpstream): void;
  /** On `sessionEnded(sid)`. */
  ended(payload: SessionEnded): Promise<void>;
}

/** Builds the handlers of agent messages for one replica. */
export function agentMessages(deps: AgentMessageDeps): AgentMessages {
  const { sessions, pool, serverRequests, taskPolls, log } = deps;

  const connectionsOf = (sessionId: string) => {
    const session = sessions.get(sessionId);
    return session ? pool.connectionsOf(sessionId, (server) => reaches(session.info, server)) : [];
  };

  return {
    answer(payload) {
      if ('method' in payload.message) {
        log.debug({ method: payload.message.method }, 'notification on the to-upstream subject ignored');
        return;
      }
      serverRequests.answer(payload);
    },

    notification(subjectSessionId, payload) {
      if (payload.sessionId !== subjectSessionId || !sessions.get(payload.sessionId)) return;
      if (!('method' in payload.message)) return;
      const n = payload.message as JsonRpcNotification;
      if (n.method === 'notifications/cancelled') {
        const requestId = n.params?.['requestId'];
        if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
        const reason = typeof n.params?.['reason'] === 'string' ? n.params['reason'] : undefined;
        taskPolls.cancel(payload.sessionId, requestId);
        for (const conn of connectionsOf(payload.sessionId))
          conn.cancelCall(payload.sessionId, requestId, reason);
      } else if (n.method === 'notifications/roots/list_changed') {
        for (const conn of connectionsOf(payload.sessionId)) conn.notify('notifications/roots/list_changed');
      }
    },

    async ended(payload) {
      if (!sessions.get(payload.sessionId)) return;
      serverRequests.dropSession(payload.sessionId);
      taskPolls.dropSession(payload.sessionId);
      for (const conn of pool.all()) if (conn.owner === undefined) conn.dropSession(payload.sessionId);
      sessions.forget(payload.sessionId);
      await pool.closeSession(payload.sessionId);
      log.debug({ session: payload.sessionId, reason: payload.reason }, 'session state released');
    },
  };
}
