/**
 * The one hop of the hot path: a RouterCall to the router replica the session is pinned to. When that
 * replica is gone (no responders, 503) the call is sent once more to the queue subject and the session is
 * re-pinned to whichever replica answered (ADR 001, session affinity). A replica that dies while it holds
 * the call fails the call with RouterReplicaGone (see router-liveness.ts); such a call is never re-sent.
 */
import { BusError, type Bus } from '@meshgate/bus';
import { RouterReply, Subjects, type RouterCall, type SessionRecord } from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';
import type { SessionStore } from './session-store';
import { RouterReplicaGone, type RouterLiveness } from './router-liveness';

/** Deadline (epoch ms) and trace context of one call. */
export interface CallOptions {
  deadline: number;
  traceparent: string;
}

/** Calls to the router replicas. */
export interface RouterClient {
  /** Any replica: `initialize` of a new session. */
  initialize(call: RouterCall, opts: CallOptions): Promise<RouterReply>;
  /** The session's replica, with failover and re-pinning. */
  call(record: SessionRecord, call: RouterCall, opts: CallOptions): Promise<RouterReply>;
}

/** Creates the router client; re-pins go through `sessions`, replicas holding calls are watched by `liveness`. */
export function createRouterClient(
  bus: Bus,
  sessions: SessionStore,
  liveness: RouterLiveness,
  logger: Logger,
): RouterClient {
  const request = (subject: string, call: RouterCall, opts: CallOptions) =>
    bus.request(subject, call, RouterReply, { deadline: opts.deadline, traceparent: opts.traceparent });

  /** The call on replica `instance`, failed with RouterReplicaGone if the replica dies meanwhile. */
  const pinnedRequest = (instance: string, call: RouterCall, opts: CallOptions): Promise<RouterReply> => {
    // Built first: a name that is no subject token throws here, before a watch exists that nothing would end.
    const subject = Subjects.routerInstanceCall(instance);
    let unwatch = () => {};
    const gone = new Promise<never>((_resolve, reject) => {
      unwatch = liveness.watch(instance, () => reject(new RouterReplicaGone(instance)));
    });
    return Promise.race([request(subject, call, opts), gone]).finally(unwatch);
  };

  return {
    initialize: (call, opts) => request(Subjects.routerCall, call, opts),
    async call(record, call, opts) {
      let reply: RouterReply;
      try {
        reply = await pinnedRequest(record.router, call, opts);
      } catch (err) {
        if (!(err instanceof BusError) || err.code !== 503 || err instanceof RouterReplicaGone) throw err;
        reply = await request(Subjects.routerCall, call, opts);
      }
      if (reply.router !== record.router) {
        logger.info(
          { session: record.session.id.slice(0, 8), from: record.router, to: reply.router },
          're-pinned session',
        );
        // The call succeeded; a failed re-pin only costs the next call one more failover. Compare-and-set:
        // a session deleted (or re-pinned by another replica) while the call was held stays as it is now.
        await sessions.update({ ...record, router: reply.router }).catch((err: unknown) => {
          logger.warn({ err }, 're-pin not stored');
        });
      }
      return reply;
    },
  };
}
