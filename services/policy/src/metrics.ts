/**
 * The policy service's Prometheus metrics, on a registry of its own (several replicas may share a test
 * process), read from the engine and the sync at scrape time: decisions, cache hits and misses, the sets in
 * force, the bucket revision applied, and whether the sync is healthy.
 */
import { Gauge, Registry } from 'prom-client';
import type { PolicyEngine, PolicySync } from '@meshgate/policy';

/** Builds the registry; the sources are read at each scrape. */
export function createMetrics(
  engine: Pick<PolicyEngine, 'stats' | 'sets'>,
  sync: () => Pick<PolicySync, 'healthy' | 'revision'> | undefined,
): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(
    'meshgate_policy_decisions',
    'Decisions made by this replica since it started.',
    () => engine.stats().decisions,
  );
  gauge(
    'meshgate_policy_cache_hits',
    'Decisions answered from the decision cache.',
    () => engine.stats().cache.hits,
  );
  gauge(
    'meshgate_policy_cache_misses',
    'Decisions evaluated in Cedar (cache misses).',
    () => engine.stats().cache.misses,
  );
  gauge('meshgate_policy_sets', 'Policy sets in force.', () => engine.sets().length);
  gauge(
    'meshgate_policy_revision',
    'The last revision of the policy bucket applied.',
    () => sync()?.revision ?? 0,
  );
  gauge('meshgate_policy_sync_healthy', '1 while the policy bucket watch runs.', () =>
    sync()?.healthy() ? 1 : 0,
  );
  return registry;
}
