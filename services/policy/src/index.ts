/** The policy service's public surface: configuration, start, and the paths and answers of its admin API. */
export { BundledPolicyDir, loadConfig, PolicyEnv, type PolicyConfig } from './config';
export { start, type PolicyHandle } from './service';
export { AdminPoliciesPath } from './admin-api';
export { AdminLimitsPath } from './limits-api';
export { LimitsFileName } from './limits-file';
export { MaxLimitsBytes } from './limits-store';
export * from './api-answers';
