/** The audit trail's publishing side (ADR 003): event building, the `MG_AUDIT` stream and the publisher. */
export * from './arguments';
export * from './event';
export * from './stream';
export * from './publisher-options';
export * from './publisher';
export { claimSpoolDir } from './spool-lock';
export { openAuditPublisher, type AuditSettings, type OpenedPublisher } from './open-publisher';
export { auditRequestId, clip, requestTarget, traceIdOf } from './event-fields';
export { outgoingMessages, type Outgoing } from './outgoing';
export { canonicalJson } from './canonical';
