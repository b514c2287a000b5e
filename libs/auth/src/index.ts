/**
 * Authentication of Meshgate: API keys (format, KV store, watch-fed verifier, bootstrap), JWT/OIDC bearer
 * tokens and the OAuth resource-server pieces (RFC 9728 metadata, challenges), roles, the keys admin API,
 * and principals' upstream tokens (sealed store and self-service API).
 */
export * from './api-key-format';
export * from './api-key-store';
export * from './api-key-verifier';
export * from './bearer-auth';
export * from './bootstrap';
export * from './key-lifecycle';
export * from './roles';
export { adminKeysApi, AdminKeysPath, type AdminKeysApiOptions } from './admin-api';
export { HttpProblem } from './admin-problem';
export * from './jwt-issuers';
export * from './jwt-claims';
export * from './jwt-verifier';
export { KeySourceError, metadataUrlsFor, type FetchLike } from './issuer-discovery';
export * from './protected-resource';
export * from './challenge';
export * from './request-auth';
export * from './upstream-token-crypto';
export * from './upstream-token-store';
export * from './upstream-tokens-api';
