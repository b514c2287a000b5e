/**
 * The shared suite in federated mode, through an in-memory namespacing relay (see namespacing-relay.ts):
 * proves that the suite's federated naming, foreign-name filtering and gateway initialize checks hold
 * together, in both eras.
 */
import { describe } from 'vitest';
import { connectProbe, ERAS, featureSuite, federatedNaming } from '../src/index';
import { federatedFixture, RELAY_INFO } from './namespacing-relay';

for (const era of ERAS) {
  describe(`feature fixture behind a federated namespacing relay, protocol ${era}`, () => {
    featureSuite(async (asked) => connectProbe(await federatedFixture('fx'), { era: asked }), {
      naming: federatedNaming('fx'),
      era,
      gatewayInfo: { name: RELAY_INFO.name },
    });
  });
}
