/**
 * The fixture feature suite, reusable through any endpoint that serves the feature fixture: the suite,
 * the probe client it drives, the naming of per-server and federated endpoints, and the protocol eras.
 */
export { featureSuite } from './feature-suite';
export type { FeatureSuiteOptions, GatewayInfo } from './suite-context';
export {
  connectHttpProbe,
  connectProbe,
  PROBE_CLIENT_INFO,
  PROBE_FORM_ANSWER,
  PROBE_ROOTS,
  type Exchange,
  type Probe,
  type ProbeOptions,
} from './probe-client';
export { firstText, structured, waitUntil } from './probe-results';
export { callToolAsTask, pollTask } from './task-client';
export { federatedNaming, fixtureNames, perServerNaming, type NameMapping, type Naming } from './naming';
export {
  Era,
  ERAS,
  LATEST_ERA,
  PROBE_CAPABILITIES,
  pinProtocolVersion,
  type InitializeVersion,
} from './protocol-era';
