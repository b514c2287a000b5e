/**
 * `start(config)`: connects to NATS, opens the session bucket, the event log, the API keys (store and
 * watch-fed verifier, for the admin API) and, with MESHGATE_UPSTREAM_TOKEN_KEY, the upstream token store
 * (for its self-service API), subscribes this replica's stream wildcard, and serves HTTP.
 * `stop()` is idempotent and graceful: GET streams end (agents reconnect elsewhere), calls in flight get
 * up to a grace period to finish, then Fastify closes and NATS drains.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import {
  ApiKeyStore,
  ApiKeyVerifier,
  JwtVerifier,
  UpstreamTokenKeyVar,
  UpstreamTokenKeyring,
  UpstreamTokenStore,
} from '@meshgate/auth';
import { Bus } from '@meshgate/bus';
import { createLogger } from '@meshgate/config';
import { buildApp } from './app';
import { startAuditTrail, type AuditTrail } from './audit-trail';
import type { IngressConfig } from './config';
import type { IngressContext } from './context';
import { createEdgeAuth } from './edge-auth';
import { openEventLog } from './event-log';
import { createMetrics } from './metrics';
import { createRouterClient } from './router-client';
import { createRouterLiveness, type RouterLiveness } from './router-liveness';
import { openSessionStore, type SessionStore } from './session-store';
import { startStreamDispatcher, type StreamDispatcher } from './stream-dispatcher';
import { StreamRegistry } from './stream-registry';
import { serveHolds } from './hold-service';
import { HeldCalls } from './mrtr-holds';
import { loadSharedKey } from './shared-key';
import { ListenLimits } from './subscriptions-listen';
import { VirtualSessions } from './virtual-session';
import type { RunningService } from '@meshgate/bus';

/** How long `stop()` lets calls in flight finish before answering them with an error. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How long `stop()` lets the last responses flush before it closes every connection. */
const FLUSH_MS = 250;

/** A running ingress instance. */
export interface IngressHandle {
  /** Base URL the instance listens on, e.g. `http://127.0.0.1:8080`. */
  url: string;
  instanceId: string;
  app: FastifyInstance;
  stop(): Promise<void>;
}

/** Starts one ingress instance. */
export async function start(config: IngressConfig): Promise<IngressHandle> {
  const logger = createLogger('ingress', config.logLevel, config.instanceId);
  const bus = await Bus.connect({ url: config.natsUrl, name: `meshgate-ingress-${config.instanceId}` });
  let sessions: SessionStore | undefined;
  let dispatcher: StreamDispatcher | undefined;
  let app: FastifyInstance | undefined;
  let liveness: RouterLiveness | undefined;
  let audit: AuditTrail | undefined;
  let verifier: ApiKeyVerifier | undefined;
  let holdService: RunningService | undefined;
  const holds = new HeldCalls(config.modern.maxHolds);
  const streams = new StreamRegistry(config.maxStreams, config.maxStreamsPerSession);
  // The public URL is the listening address until the server listens, unless configured.
  let publicUrl = config.auth.publicUrl ?? `http://${config.host}:${config.port}`;
  try {
    const store = await openSessionStore(bus, { ttlS: config.sessionTtlS, logger });
    sessions = store;
    const trail = await startAuditTrail(bus, config, logger);
    audit = trail;
    const events = await openEventLog(bus, {
      logger,
      maxAgeS: config.eventsMaxAgeS,
      maxPerStream: config.eventsMaxPerStream,
      maxBytes: config.eventsMaxBytes,
    });
    const keyStore = await ApiKeyStore.open(bus.nc, {
      bucket: config.apiKeysBucket,
      onCorrupt: (keyId, reason) => logger.warn({ keyId, reason }, 'skipped an unreadable API key record'),
    });
    verifier = await ApiKeyVerifier.start(bus.nc, {
      bucket: config.apiKeysBucket,
      onCorrupt: (keyId, reason) => logger.warn({ keyId, reason }, 'skipped an unreadable API key record'),
      onError: (err) => logger.error({ err }, 'the API key watch failed; every key is refused'),
    });
    if (config.auth.mode === 'none')
      logger.warn(
        'MESHGATE_AUTH=none: the MCP endpoints accept every request as the anonymous agent (local trials only)',
      );
    // The config requires a public URL with issuers: a token's audience is the URL agents use.
    const jwt =
      config.auth.jwtIssuers.length > 0
        ? new JwtVerifier(config.auth.jwtIssuers, { resource: `${publicUrl}/mcp` })
        : undefined;
    const upstreamTokens = process.env[UpstreamTokenKeyVar]?.trim()
      ? await UpstreamTokenStore.open(bus.nc, UpstreamTokenKeyring.fromEnv())
      : null;
    dispatcher = startStreamDispatcher(bus, config.instanceId, logger);
    store.onEnded((sessionId) => streams.closeSession(sessionId));
    liveness = createRouterLiveness(bus, { intervalMs: config.routerProbeMs, logger });
    const router = createRouterClient(bus, store, liveness, logger);
    const key = await loadSharedKey(bus, config.modern.requestStateKey);
    holdService = await serveHolds(bus, config.instanceId, holds, logger);
    const ctx: IngressContext = {
      config,
      bus,
      logger,
      sessions: store,
      events,
      dispatcher,
      router,
      streams,
      metrics: createMetrics(
        () => store.cachedCount,
        () => trail.status(),
      ),
      audit: trail,
      keys: { store: keyStore, verifier },
      auth: createEdgeAuth({
        mode: config.auth.mode,
        apiKeys: verifier,
        jwt,
        issuers: config.auth.jwtIssuers,
        publicUrl: () => publicUrl,
      }),
      upstreamTokens: { store: upstreamTokens, apiKeys: verifier, ...(jwt ? { jwt } : {}) },
      inflight: new Map(),
      modern: {
        key,
        sessions: new VirtualSessions(key, store, router, logger),
        holds,
        listens: new ListenLimits(config.modern.maxListensPerPrincipal),
      },
    };
    app = buildApp(ctx);
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app?.close();
    await holdService?.stop();
    liveness?.stop();
    dispatcher?.stop();
    sessions?.stop();
    await verifier?.stop();
    await audit?.stop();
    await bus.close();
    throw err;
  }
  const server = app;
  const { port } = server.server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  if (config.auth.publicUrl === undefined) publicUrl = `http://${host}:${port}`;
  let stopping: Promise<void> | undefined;

  const shutdown = async () => {
    const closing = server.close();
    streams.closeAll('stream');
    await streams.callsSettled(SHUTDOWN_GRACE_MS);
    streams.closeAll('call');
    // Calls held for agents' retries end here: their agents get -32602 from whichever replica they retry on.
    holds.cancelAll('the gateway replica is stopping');
    await holdService?.stop();
    // Connections whose last response just ended are idle only after it flushed; then none may linger.
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, FLUSH_MS))]);
    server.server.closeAllConnections();
    await closing;
    liveness?.stop();
    dispatcher?.stop();
    sessions?.stop();
    await verifier?.stop();
    // After the last answer: its response-sent is published, and what is not acknowledged is spooled.
    await audit?.stop();
    await bus.close();
    logger.info('ingress stopped');
  };
  return {
    url: `http://${host}:${port}`,
    instanceId: config.instanceId,
    app: server,
    stop: () => (stopping ??= shutdown()),
  };
}
