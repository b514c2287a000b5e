/**
 * The behaviour every endpoint serving the feature fixture must show, as one vitest suite: the fixture's
 * own transports register it with identity naming, and an end-to-end test registers it again through a
 * gateway endpoint with that endpoint's naming. One probe serves the whole suite; tests that change
 * connection state (log level, subscriptions) put it back. Test titles are fixed strings of the form
 * `<feature>: <what is checked>`, independent of the options, so runs can be tabulated by title.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Era } from './protocol-era';
import type { Probe } from './probe-client';
import { suiteContext, type FeatureSuiteOptions } from './suite-context';
import { toolTests } from './suite-tools';
import { interactionTests } from './suite-interactions';
import { resourceTests } from './suite-resources';

/**
 * Registers the shared suite in the current `describe`. `connect(era)` opens a probe asking for `era`
 * (`opts.era` is passed) to the endpoint under test.
 */
export function featureSuite(connect: (era: Era) => Promise<Probe>, opts: FeatureSuiteOptions): void {
  let probe: Probe | undefined;
  beforeAll(async () => {
    probe = await connect(opts.era);
  });
  afterAll(async () => {
    await probe?.close();
  });
  const ctx = suiteContext(() => {
    if (!probe) throw new Error('the probe did not connect');
    return probe;
  }, opts);
  toolTests(ctx);
  interactionTests(ctx);
  resourceTests(ctx);
}
