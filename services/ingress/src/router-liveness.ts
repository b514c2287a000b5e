/**
 * Notices the death of a router replica that holds calls of this ingress replica. NATS answers a request
 * whose replica is already gone with "no responders" at once, but a replica that dies while it holds a
 * call leaves the caller waiting until the call's deadline (minutes). So, only while calls are in flight
 * on a replica, this module probes that replica's own subject every interval: an answer of any kind (the
 * probe is no RouterCall, so the router answers it with an error) or a silence means it lives; "no
 * responders" means nobody subscribes to it any more, and its calls are failed (ADR 001: in-flight calls
 * of a killed replica fail with a JSON-RPC error). Calls shorter than one interval cost no probe.
 */
import { Empty, NoRespondersError, RequestError } from '@nats-io/nats-core';
import { BusError, type Bus } from '@meshgate/bus';
import { Subjects } from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';

/** The router replica that held a call is gone; the call may or may not have run, so it is not re-sent. */
export class RouterReplicaGone extends BusError {
  constructor(readonly instance: string) {
    super(503, `router replica ${instance} is gone`);
    this.name = 'RouterReplicaGone';
  }
}

/** Watches router replicas while calls are in flight on them. */
export interface RouterLiveness {
  /** Calls `onGone` once if `instance` is found gone while watched; returns the function that stops watching. */
  watch(instance: string, onGone: () => void): () => void;
  /** Stops every probe; watchers are never called afterwards. */
  stop(): void;
}

/** Probe period, and the services a probe needs. */
export interface RouterLivenessOptions {
  intervalMs: number;
  logger: Logger;
}

interface Watched {
  listeners: Set<() => void>;
  timer: NodeJS.Timeout | undefined;
}

/** True unless NATS says nobody subscribes to the replica's subject (a timeout or a closing connection proves nothing). */
async function replicaAnswers(bus: Bus, instance: string, timeoutMs: number): Promise<boolean> {
  try {
    await bus.nc.request(Subjects.routerInstanceCall(instance), Empty, { timeout: timeoutMs });
    return true;
  } catch (err) {
    const noResponders =
      err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders());
    return !noResponders;
  }
}

/** Creates the liveness watch of one ingress replica. */
export function createRouterLiveness(bus: Bus, opts: RouterLivenessOptions): RouterLiveness {
  const watched = new Map<string, Watched>();
  let stopped = false;

  const schedule = (instance: string, entry: Watched): void => {
    entry.timer = setTimeout(() => void probe(instance, entry), opts.intervalMs).unref();
  };

  const probe = async (instance: string, entry: Watched): Promise<void> => {
    const alive = await replicaAnswers(bus, instance, opts.intervalMs);
    // Unwatched meanwhile (a later watch of the same replica has an entry and a timer of its own).
    if (stopped || watched.get(instance) !== entry) return;
    if (alive) return schedule(instance, entry);
    watched.delete(instance);
    opts.logger.warn(
      { router: instance, calls: entry.listeners.size },
      'router replica gone: failing its calls',
    );
    for (const listener of entry.listeners) listener();
  };

  return {
    watch(instance, onGone) {
      if (stopped) return () => {};
      let entry = watched.get(instance);
      if (!entry) {
        entry = { listeners: new Set(), timer: undefined };
        watched.set(instance, entry);
        schedule(instance, entry);
      }
      const listener = () => onGone();
      entry.listeners.add(listener);
      return () => {
        const current = watched.get(instance);
        if (!current?.listeners.delete(listener) || current.listeners.size > 0) return;
        clearTimeout(current.timer);
        watched.delete(instance);
      };
    },
    stop() {
      stopped = true;
      for (const entry of watched.values()) clearTimeout(entry.timer);
      watched.clear();
    },
  };
}
