/**
 * Authorization of Meshgate in Cedar: the schema, policy set compilation, the in-process engine with its
 * decision cache, the KV sync that keeps an engine current, and the heartbeat freshness check.
 */
export * from './cedar-schema';
export * from './compile';
export * from './engine';
export * from './policy-sync';
export * from './policy-freshness';
export { DecisionCache, decisionKey, MaxDecisionKeyLength, type DecisionCacheStats } from './decision-cache';
export { effectiveRoles, ImpliedRoles, principalUid, resourceUid, requestTime, clientIp } from './entities';
export {
  argumentTags,
  escapeSegment,
  MaxArgumentDepth,
  MaxArgumentPaths,
  type ArgumentTags,
} from './arguments';
export { MaxPolicyDepthScore, TextPositions, type TextPosition } from './policy-text';
export { CedarTrap, cedarGeneration, MaxConditionDepth } from './cedar-runtime';
export * from './limits/index';
