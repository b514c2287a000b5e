/** Persistence ports of Meshgate and their embedded adapters (JetStream KV). */
export * from './server-catalogue';
export * from './server-entry';
export * from './kv-server-catalogue';
export * from './audit-archive';
export * from './audit-query';
export * from './js-audit-archive';
export * from './mongo-audit-archive';
