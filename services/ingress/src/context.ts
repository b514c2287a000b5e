/**
 * What the route handlers of one ingress instance share: configuration and the adapters built once by
 * `start()`. A plain object, no container.
 */
import type { ApiKeyStore, ApiKeyVerifier, UpstreamTokensApiOptions } from '@meshgate/auth';
import type { Bus } from '@meshgate/bus';
import type { Logger } from '@meshgate/config';
import type { AuditTrail } from './audit-trail';
import type { EdgeAuth } from './edge-auth';
import type { IngressConfig } from './config';
import type { EventLog } from './event-log';
import type { IngressMetrics } from './metrics';
import type { RouterClient } from './router-client';
import type { SessionStore } from './session-store';
import type { StreamDispatcher } from './stream-dispatcher';
import type { StreamRegistry } from './stream-registry';
import type { HeldCalls } from './mrtr-holds';
import type { ListenLimits } from './subscriptions-listen';
import type { VirtualSessions } from './virtual-session';

/** What the stateless 2026-07-28 era keeps per replica. */
export interface ModernState {
  /** The key every replica shares (requestState MACs, virtual session ids). */
  key: Buffer;
  sessions: VirtualSessions;
  /** Calls held for their agents' retries (multi round-trip requests). */
  holds: HeldCalls;
  listens: ListenLimits;
}

/** The dependencies every handler of one instance receives. */
export interface IngressContext {
  config: IngressConfig;
  bus: Bus;
  logger: Logger;
  sessions: SessionStore;
  events: EventLog;
  dispatcher: StreamDispatcher;
  router: RouterClient;
  streams: StreamRegistry;
  metrics: IngressMetrics;
  /** The audit trail: request-received and response-sent of every answered request. */
  audit: AuditTrail;
  /** API keys: the admin API `/admin/v1/keys`, and the verifier every authentication uses. */
  keys: { store: ApiKeyStore; verifier: ApiKeyVerifier };
  /** Authentication of the MCP endpoints. */
  auth: EdgeAuth;
  /** The upstream tokens self-service API: the store (null without MESHGATE_UPSTREAM_TOKEN_KEY: 503). */
  upstreamTokens: UpstreamTokensApiOptions;
  /** Calls in flight on this replica by `pendingKey`, each ending itself when the agent cancels it. */
  inflight: Map<string, () => void>;
  /** The stateless 2026-07-28 era: virtual sessions, held calls, listens. */
  modern: ModernState;
}

/** Key of an in-flight call: its session and the agent's request id. */
export function pendingKey(sessionId: string, requestId: string | number): string {
  return `${sessionId} ${typeof requestId}:${requestId}`;
}
