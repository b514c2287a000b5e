/** Authentication of Meshgate: API keys (format, KV store, watch-fed verifier, bootstrap), roles, and the keys admin API. */
export * from './api-key-format';
export * from './api-key-store';
export * from './api-key-verifier';
export * from './bearer-auth';
export * from './bootstrap';
export * from './key-lifecycle';
export * from './roles';
export { adminKeysApi, AdminKeysPath, type AdminKeysApiOptions } from './admin-api';
export { HttpProblem } from './admin-problem';
