/**
 * The router service: composes the registry view, the upstream connection pool, the per-session state and
 * the NATS endpoints of one replica. `start(config)` returns a handle whose `stop()` stops taking calls,
 * closes every upstream (killing stdio children) and drains the NATS connection.
 */
import { Bus, decodeJson, serve } from '@meshgate/bus';
import { createLogger, newInstanceId, type Logger } from '@meshgate/config';
import {
  QueueGroups,
  RouterCall,
  SessionEnded,
  Subjects,
  ToUpstream,
  parseSessionSubject,
} from '@meshgate/contracts';
import type { Msg, Subscription } from '@nats-io/nats-core';
import type { z } from 'zod';
import type { RouterConfig } from './config';
import { handleCall } from './call-handler';
import type { CallContext } from './call-context';
import { RegistryView } from './registry-view';
import { Sessions } from './sessions';
import { ServerRequests } from './server-requests';
import { TaskPolls } from './task-polls';
import { ListChangedMethods, upstreamEvents } from './upstream-events';
import { agentMessages } from './agent-messages';
import { ConnectionPool } from './upstream/pool';
import { UpstreamConnection, type ConnectionHooks } from './upstream/connection';
import { startUpstreamAudit, type UpstreamAudit } from './upstream-audit';
import { startAuthorizer, type Authorizer } from './authorization';
import { Limiter } from '@meshgate/policy';
import { createTransport } from './upstream/transports';
import { principalTokensOn } from './upstream/principal-tokens';
import { RouterVersion } from './version';

/** A running router replica. */
export interface RouterHandle {
  instanceId: string;
  /** Stops the replica; safe to call more than once. */
  stop(): Promise<void>;
}

/** Starts one router replica. */
export async function start(config: RouterConfig): Promise<RouterHandle> {
  const instanceId = config.instanceId ?? newInstanceId('router');
  const log = createLogger('router', config.logLevel, instanceId);
  const bus = await Bus.connect({ url: config.natsUrl, name: `meshgate-router-${instanceId}` });
  let audit: UpstreamAudit | undefined;
  let limiter: Limiter | undefined;
  let authz: Authorizer | undefined;
  try {
    if (config.audit.enabled) audit = await startUpstreamAudit(bus, config.audit, instanceId, log);
    // The replica's limiter holds the configured limits (when policies are enforced) and the upstreams'
    // shared concurrency slots (always).
    limiter = await Limiter.start(bus.nc, {
      bucket: config.policy.limitsBucket,
      instance: instanceId,
      onError: (err) => log.warn({ err }, 'limit state not reachable'),
    });
    authz = await startAuthorizer(bus, config.policy, limiter, log);
    return await compose(config, instanceId, bus, log, audit, { authz, limiter });
  } catch (err) {
    await authz?.stop();
    await limiter?.stop();
    await audit?.stop();
    await bus.close();
    throw err;
  }
}

async function compose(
  config: RouterConfig,
  instanceId: string,
  bus: Bus,
  log: Logger,
  audit: UpstreamAudit | undefined,
  { authz, limiter }: { authz: Authorizer; limiter: Limiter },
): Promise<RouterHandle> {
  const sessions = new Sessions();
  const publish = (subject: string, message: Record<string, unknown>) => {
    try {
      bus.publish(subject, { v: 1, message });
    } catch (err) {
      log.warn(
        { err: err instanceof Error ? err.message : String(err), subject },
        'message for the agent not published',
      );
    }
  };
  const serverRequests = new ServerRequests(instanceId, publish, log);
  const hooks: ConnectionHooks = {
    ...upstreamEvents({ sessions, serverRequests, publish, log, separator: config.separator }),
    ...(audit
      ? {
          agentRequest: (conn, call) =>
            audit.agentRequest(conn, call, sessions.get(call.origin.sessionId)?.info.principal),
        }
      : {}),
    agentOf: (sessionId) => sessions.get(sessionId)?.info,
  };
  const pool = new ConnectionPool(
    (def, owner, gate, caller, eras) => {
      const conn = new UpstreamConnection({
        def,
        owner,
        gate,
        caller,
        eras,
        transports: createTransport,
        hooks,
        log: log.child(owner === undefined ? { server: def.name } : { server: def.name, session: owner }),
        backoffMaxMs: config.restartBackoffMaxMs,
        version: RouterVersion,
      });
      conn.start();
      return conn;
    },
    {
      principalTokens: principalTokensOn(bus.nc),
      sharedSlots: (server, limit) => limiter.sharedSlots(server, limit),
    },
  );
  const registry = new RegistryView();
  await registry.watch(bus.nc, config.registryBucket, log, (name, def) => {
    log.info({ server: name, removed: def === undefined }, 'server definition changed');
    void pool
      .closeServer(name)
      .then((hadShared) => {
        const current = registry.get(name);
        if (hadShared && current && !current.stateful) pool.sharedFor(current);
      })
      .catch((err: unknown) =>
        log.debug({ server: name, err: err instanceof Error ? err.message : String(err) }, 'not reconnected'),
      );
    for (const s of sessions.using(name))
      for (const method of ListChangedMethods)
        publish(Subjects.sessionToAgent(s.info.id), { jsonrpc: '2.0', method });
  });
  const taskPolls = new TaskPolls();
  const ctx: CallContext = {
    instanceId,
    separator: config.separator,
    listDeadlineMs: config.listDeadlineMs,
    registry,
    pool,
    sessions,
    taskPolls,
    log,
    auditAdmits: () => audit?.admission() ?? true,
    authz,
    auditDecision: (origin, session, server, method, target, decision) =>
      audit?.decision({ origin, principal: session.principal, server, method, target, decision }),
  };
  const agent = agentMessages({ sessions, pool, serverRequests, taskPolls, log });
  // Agents often vanish without DELETE: release what a session holds here once no call reached it for the
  // idle limit (its next call, if any, simply starts afresh on whichever replica serves it).
  const sweep = setInterval(
    () => {
      for (const sessionId of sessions.idleSince(Date.now() - config.sessionIdleMs))
        void agent.ended({ v: 1, sessionId, reason: 'expired' });
    },
    Math.min(60_000, Math.max(250, config.sessionIdleMs / 4)),
  );
  sweep.unref();
  const service = await serve(
    bus,
    {
      name: 'meshgate-router',
      version: RouterVersion,
      description: 'Meshgate router: upstream MCP connections, federation and namespacing',
      metadata: { instance: instanceId },
      stats: () => ({
        audit: audit?.status() ?? { state: 'off' },
        policy: authz.status(),
        upstreams: pool.gates.stats(),
      }),
      onError: (err, endpoint) =>
        log.error({ err: err instanceof Error ? err.message : String(err), endpoint }, 'router call failed'),
    },
    [
      {
        name: 'call',
        subject: Subjects.routerCall,
        queue: QueueGroups.router,
        request: RouterCall,
        handler: (call: RouterCall, c) => handleCall(ctx, call, c),
      },
      {
        name: 'instance-call',
        subject: Subjects.routerInstanceCall(instanceId),
        queue: '',
        request: RouterCall,
        handler: (call: RouterCall, c) => handleCall(ctx, call, c),
      },
    ],
  );
  const listen = <S extends z.ZodType>(
    subject: string,
    schema: S,
    handle: (payload: z.infer<S>, msg: Msg) => unknown,
  ): Subscription =>
    bus.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return log.error({ err: err.message, subject }, 'subscription failed');
        try {
          Promise.resolve(handle(decodeJson(schema, msg.data, subject), msg)).catch((e: unknown) =>
            log.error({ err: String(e), subject }, 'message handling failed'),
          );
        } catch (e) {
          log.warn(
            { err: e instanceof Error ? e.message : String(e), subject: msg.subject },
            'bad message ignored',
          );
        }
      },
    });
  const subscriptions = [
    listen(Subjects.routerToUpstream(instanceId), ToUpstream, (p) => agent.answer(p)),
    listen(Subjects.sessionToUpstreamAll, ToUpstream, (p, msg) => {
      const sid = parseSessionSubject(msg.subject)?.sessionId;
      if (sid !== undefined) agent.notification(sid, p);
    }),
    listen(Subjects.sessionEndedAll, SessionEnded, (p) => agent.ended(p)),
  ];
  log.info({ bucket: config.registryBucket, servers: registry.enabled().length }, 'router started');

  let stopping: Promise<void> | undefined;
  return {
    instanceId,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(sweep);
        await service.stop();
        for (const s of subscriptions) s.unsubscribe();
        await registry.stop();
        serverRequests.clear();
        taskPolls.clear();
        await pool.closeAll();
        await authz.stop();
        await limiter.stop();
        await audit?.stop();
        await bus.close();
        log.info('router stopped');
      })()),
  };
}
