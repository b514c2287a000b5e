/**
 * This replica's NATS service `meshgate-ingress` (so `$SRV.PING|INFO|STATS` list every replica, metadata
 * `instance`), with one endpoint: `mg.v1.ingress.<instance>.resume` (no queue group: only the holder can
 * answer), where another replica resumes a call this one holds for a 2026-07-28 agent, or cancels it. A
 * resume is answered with the call's next outcome (mrtr-holds.ts) while the call's notifications go to the
 * resuming replica's stream subject; an unknown hold, or one of another principal, is refused.
 */
import { serve, type Bus, type RunningService } from '@meshgate/bus';
import { HoldRequest, Subjects, parseIngressStream, type HoldReply, type ToAgent } from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';
import type { HeldCalls } from './mrtr-holds';
import pkg from '../package.json' with { type: 'json' };

/** Serves the hold endpoint of replica `instance`. */
export function serveHolds(
  bus: Bus,
  instance: string,
  holds: HeldCalls,
  logger: Logger,
): Promise<RunningService> {
  const handle = (req: HoldRequest, deadline: number): Promise<HoldReply> => {
    const call = holds.find(req.hold, req.principal.tenant, req.principal.id);
    if (req.op === 'cancel') {
      call?.cancel('the client closed the connection');
      return Promise.resolve({ v: 1, outcome: { kind: 'refused', reason: 'cancelled' } });
    }
    if (!call)
      return Promise.resolve({ v: 1, outcome: { kind: 'refused', reason: 'its request is no longer held' } });
    const stream = parseIngressStream(req.stream) ? req.stream : undefined;
    return new Promise((resolve) =>
      call.resume(
        req.round,
        req.responses,
        {
          notify: (message) => {
            if (stream) bus.publish(stream, { v: 1, message } satisfies ToAgent);
          },
          settle: (outcome) => resolve({ v: 1, outcome }),
        },
        deadline,
      ),
    );
  };
  return serve(
    bus,
    {
      name: 'meshgate-ingress',
      version: pkg.version,
      description: 'Meshgate ingress: calls held for 2026-07-28 agents (multi round-trip requests)',
      metadata: { instance },
      stats: () => ({ held: holds.size }),
      onError: (err, endpoint) => logger.error({ err, endpoint }, 'hold endpoint failed'),
    },
    [
      {
        name: 'resume',
        subject: Subjects.ingressResume(instance),
        queue: '',
        request: HoldRequest,
        handler: (req: HoldRequest, ctx) => handle(req, ctx.deadline),
      },
    ],
  );
}
