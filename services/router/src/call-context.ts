/**
 * What every call handler needs from the running replica, and the small rules they share: the upstream
 * timeout of a call, and the error of an unavailable upstream.
 */
import type { Logger } from '@meshgate/config';
import { ErrorCodes, type ServerDefinition } from '@meshgate/contracts';
import type { ConnectionPool } from './upstream/pool';
import type { Outcome } from './upstream/relay-table';
import type { RegistryView } from './registry-view';
import type { Sessions } from './sessions';

/** The running replica, as the call handlers see it. */
export interface CallContext {
  instanceId: string;
  separator: string;
  listDeadlineMs: number;
  registry: RegistryView;
  pool: ConnectionPool;
  sessions: Sessions;
  log: Logger;
}

/** The time one upstream request may take: the definition's timeout, cut by the call's deadline. */
export function upstreamTimeout(def: ServerDefinition, deadline: number, now = Date.now()): number {
  return Math.max(1, Math.min(def.timeoutMs, deadline - now));
}

/** The outcome of a call whose upstream cannot be reached. */
export function unavailable(server: string, reason: string): Outcome {
  return {
    error: { code: ErrorCodes.UpstreamUnavailable, message: `upstream ${server} unavailable: ${reason}` },
  };
}
