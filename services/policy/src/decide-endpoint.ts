/**
 * The policy service on NATS: `meshgate-policy` answers `mg.v1.policy.decide` (DecisionRequest ->
 * DecisionReply) in the `policy` queue group from this replica's engine, and publishes a PolicyHeartbeat
 * every second while its sync is healthy, so that deciding replicas know the sets they hold are current.
 * A request whose action does not apply to its resource is a caller fault (400); a replica whose sync has
 * failed answers 503 instead of deciding on sets it can no longer vouch for. `$SRV.STATS` carries the
 * sets in force, the bucket revision, and the decision and cache counters.
 */
import { CallerFault, serve, SystemFault, type Bus, type RunningService } from '@meshgate/bus';
import { DecisionRequest, QueueGroups, type DecisionReply, type PolicyHeartbeat } from '@meshgate/contracts';
import { actionAppliesTo, type PolicyEngine, type PolicySync } from '@meshgate/policy';

export interface PolicyEndpointOptions {
  instanceId: string;
  version: string;
  subjects: { decide: string; heartbeat: string };
  heartbeatMs: number;
  onError: (err: unknown, endpoint: string) => void;
}

/** The running endpoint and heartbeat; `stop()` ends both. */
export interface PolicyEndpoint {
  stop(): Promise<void>;
}

/** Serves decisions from `engine` and starts the heartbeat. */
export async function servePolicy(
  bus: Bus,
  engine: PolicyEngine,
  sync: Pick<PolicySync, 'healthy' | 'revision'>,
  opts: PolicyEndpointOptions,
): Promise<PolicyEndpoint> {
  const service: RunningService = await serve(
    bus,
    {
      name: 'meshgate-policy',
      version: opts.version,
      description: 'Meshgate policy: authorization decisions in Cedar',
      metadata: { instance: opts.instanceId },
      stats: () => {
        const stats = engine.stats();
        return {
          sets: engine.sets().length,
          revision: sync.revision,
          healthy: sync.healthy(),
          decisions: stats.decisions,
          cacheHits: stats.cache.hits,
        };
      },
      onError: opts.onError,
    },
    [
      {
        name: 'decide',
        subject: opts.subjects.decide,
        queue: QueueGroups.policy,
        request: DecisionRequest,
        handler: async (req: DecisionRequest): Promise<DecisionReply> => {
          if (!actionAppliesTo(req.action, req.resource.kind))
            throw new CallerFault(`${req.action} does not apply to a ${req.resource.kind}`);
          if (!sync.healthy()) throw new SystemFault('the policy sets of this replica are not current', 503);
          return engine.decide(req);
        },
      },
    ],
  );
  const beat = () => {
    if (!sync.healthy() || bus.nc.isClosed()) return;
    const heartbeat: PolicyHeartbeat = {
      v: 1,
      instance: opts.instanceId,
      revision: sync.revision,
      time: Date.now(),
    };
    try {
      bus.publish(opts.subjects.heartbeat, heartbeat);
    } catch (err) {
      opts.onError(err, 'heartbeat');
    }
  };
  beat();
  const timer = setInterval(beat, opts.heartbeatMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await service.stop();
    },
  };
}
