/**
 * The registry's NATS service `meshgate-registry`: `mg.v1.registry.list` answers the whole catalogue as a
 * RegistryListReply. Registered with the services framework under the `registry` queue group, so replicas
 * share the work and `$SRV.PING|INFO|STATS` list each one.
 */
import { z } from 'zod';
import { serve, SystemFault, type Bus, type RunningService } from '@meshgate/bus';
import { QueueGroups, Subjects, type RegistryListReply } from '@meshgate/contracts';
import type { ServerCatalogue } from '@meshgate/store';

/** A list request: any JSON object (no parameters yet; unknown fields are ignored for forward compatibility). */
export const RegistryListRequest = z.looseObject({});
export type RegistryListRequest = z.infer<typeof RegistryListRequest>;

export interface RegistryEndpointOptions {
  instanceId: string;
  version: string;
  onError: (err: unknown, endpoint: string) => void;
}

/** Starts the service on `bus`; `stop()` unregisters it. */
export function serveRegistry(
  bus: Bus,
  catalogue: ServerCatalogue,
  opts: RegistryEndpointOptions,
): Promise<RunningService> {
  return serve(
    bus,
    {
      name: 'meshgate-registry',
      version: opts.version,
      description: 'Meshgate registry: the catalogue of upstream MCP servers',
      metadata: { instance: opts.instanceId },
      onError: opts.onError,
    },
    [
      {
        name: 'list',
        subject: Subjects.registryList,
        queue: QueueGroups.registry,
        request: RegistryListRequest,
        handler: async (): Promise<RegistryListReply> => {
          try {
            return { v: 1, servers: await catalogue.list() };
          } catch (err) {
            throw new SystemFault(
              `catalogue unavailable: ${err instanceof Error ? err.message : String(err)}`,
              503,
            );
          }
        },
      },
    ],
  );
}
