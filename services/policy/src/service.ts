/**
 * The policy service process, composed: connect to NATS, open the policy bucket, store the policy files
 * and the limits file, start the sync that keeps this replica's engine current, serve decisions and the
 * heartbeat on NATS, and the HTTP app (probes, metrics, the admin APIs). `stop()` closes the app, the key
 * verifier, the endpoint and heartbeat, the sync and the connection, in that order; it is safe to call twice.
 */
import { ApiKeyVerifier } from '@meshgate/auth';
import { Bus } from '@meshgate/bus';
import { createLogger } from '@meshgate/config';
import { PolicyEngine, PolicySync } from '@meshgate/policy';
import manifest from '../package.json' with { type: 'json' };
import type { PolicyConfig } from './config';
import { servePolicy } from './decide-endpoint';
import { buildHttpApp } from './http-app';
import { applyLimitsFile } from './limits-file';
import { LimitsStore } from './limits-store';
import { createMetrics } from './metrics';
import { applyPolicyFiles } from './policy-files';
import { PolicyStore } from './policy-store';

/** A running policy replica. */
export interface PolicyHandle {
  /** Base URL of the HTTP app, e.g. `http://127.0.0.1:8083`. */
  url: string;
  instanceId: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 2_000;

/** Starts one policy replica. */
export async function start(config: PolicyConfig): Promise<PolicyHandle> {
  const log = createLogger('policy', config.logLevel, config.instanceId);
  const bus = await Bus.connect({ url: config.natsUrl, name: `meshgate-policy-${config.instanceId}` });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await bus.close();
  };
  try {
    const store = await PolicyStore.open(bus.nc, config.bucket, (name, reason) =>
      log.warn({ set: name, reason }, 'skipped an unreadable policy record'),
    );
    const applied = await applyPolicyFiles(store, config.files, log);
    log.info({ dir: config.files.dir, mode: config.files.mode, ...applied }, 'applied the policy files');
    const limits = await LimitsStore.open(bus.nc, config.bucket);
    const limitsFile = await applyLimitsFile(limits, config.files, log);
    log.info({ dir: config.files.dir, limitsFile }, 'applied the limits file');

    const engine = new PolicyEngine({
      cacheSize: config.cacheSize,
      onEvaluationError: (message, policies) =>
        log.warn({ policies, message }, 'policies failed to evaluate; denied'),
    });
    const sync = await PolicySync.start(bus.nc, {
      bucket: config.bucket,
      engine,
      onInvalid: (name, errors) =>
        log.error({ set: name, errors }, 'a stored policy set was not installed; the previous one stays'),
      onChange: (name, revision, change) => log.info({ set: name, revision, change }, 'policy set changed'),
      onError: (err) => log.error({ err }, 'the policy watch failed; decisions are refused'),
    });
    stops.push(() => sync.stop());
    const endpoint = await servePolicy(bus, engine, sync, {
      instanceId: config.instanceId,
      version: manifest.version,
      subjects: config.subjects,
      heartbeatMs: config.heartbeatMs,
      onError: (err, name) => log.error({ err, endpoint: name }, 'policy endpoint failed'),
    });
    stops.push(() => endpoint.stop());
    const verifier =
      config.auth.mode === 'api-key'
        ? await ApiKeyVerifier.start(bus.nc, {
            bucket: config.auth.keysBucket,
            onCorrupt: (keyId, reason) => log.warn({ keyId, reason }, 'skipped an unreadable API key record'),
            onError: (err) => log.error({ err }, 'the API key watch failed; every admin request is refused'),
          })
        : undefined;
    if (verifier) stops.push(() => verifier.stop());
    else log.warn('MESHGATE_POLICY_AUTH=none: the policy admin API answers anyone; for local trials only');

    const ready = () =>
      withTimeout(
        (async () => {
          if (bus.nc.isClosed()) throw new Error('the NATS connection is closed');
          await bus.nc.flush();
          if (!sync.healthy()) throw new Error('the policy watch is not running');
        })(),
        READY_TIMEOUT_MS,
      );
    const app = buildHttpApp({
      ready,
      metrics: createMetrics(engine, () => sync),
      logger: log,
      api: { store, engine, auth: verifier ? { mode: 'api-key', verifier } : { mode: 'none' } },
      limits,
    });
    const url = await app.listen({ host: config.host, port: config.port });
    stops.push(() => app.close());
    log.info({ url, sets: engine.sets() }, 'policy service started');

    let stopping: Promise<void> | undefined;
    return {
      url,
      instanceId: config.instanceId,
      stop: () =>
        (stopping ??= (async () => {
          await stopAll();
          log.info('policy service stopped');
        })()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
