/**
 * The registry process, composed: read the configuration file (fail fast when it is wrong), connect to
 * NATS, open the catalogue bucket, apply the file's servers, then serve the NATS endpoint and the admin API.
 * `stop()` closes the API, the endpoint and the connection, in that order, and is safe to call twice.
 */
import { Bus } from '@meshgate/bus';
import { createLogger } from '@meshgate/config';
import { Subjects, type RegistryChanged } from '@meshgate/contracts';
import { KvServerCatalogue } from '@meshgate/store';
import manifest from '../package.json' with { type: 'json' };
import type { RegistryConfig } from './config';
import { applyServers, fileServers } from './file-servers';
import { buildHttpApp } from './http-app';
import { serveRegistry } from './registry-endpoint';

/** A running registry. */
export interface RegistryHandle {
  /** Base URL of the admin API, e.g. `http://127.0.0.1:8081`. */
  url: string;
  instanceId: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 2_000;

/** Starts one registry replica. */
export async function start(config: RegistryConfig): Promise<RegistryHandle> {
  const log = createLogger('registry', config.logLevel, config.instanceId);
  const definitions = await fileServers(config.configFile, config.env, config.demoUpstream);
  const bus = await Bus.connect({ url: config.natsUrl, name: `meshgate-registry-${config.instanceId}` });
  try {
    const catalogue = await KvServerCatalogue.open(bus.nc, {
      bucket: config.bucket,
      onCorrupt: (key, reason) => log.warn({ key, reason }, 'skipped an unreadable catalogue entry'),
      onError: (err) => log.error({ err }, 'catalogue watch failed'),
    });
    const onChange = (change: RegistryChanged) => bus.publish(Subjects.registryChanged, change);
    const applied = await applyServers(catalogue, definitions, onChange);
    log.info({ file: config.configFile, ...applied }, 'applied the configured servers');

    const endpoint = await serveRegistry(bus, catalogue, {
      instanceId: config.instanceId,
      version: manifest.version,
      onError: (err, name) => log.error({ err, endpoint: name }, 'registry endpoint failed'),
    });
    const ready = () =>
      withTimeout(
        (async () => {
          if (bus.nc.isClosed()) throw new Error('the NATS connection is closed');
          await bus.nc.flush();
          await catalogue.ping();
        })(),
        READY_TIMEOUT_MS,
      );
    const app = buildHttpApp({ catalogue, onChange, ready, bodyLimit: config.bodyLimit, logger: log });
    const url = await app.listen({ host: config.host, port: config.port }).catch(async (err: unknown) => {
      await endpoint.stop();
      throw err;
    });
    log.info({ url }, 'registry started');

    let stopping: Promise<void> | undefined;
    return {
      url,
      instanceId: config.instanceId,
      stop: () =>
        (stopping ??= (async () => {
          await app.close();
          await endpoint.stop();
          await bus.close();
          log.info('registry stopped');
        })()),
    };
  } catch (err) {
    await bus.close();
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
