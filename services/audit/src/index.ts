/** The audit service's public surface: configuration, start, the chain, checkpoints, verification and the API schemas. */
export { loadConfig, AuditEnv, type AuditConfig } from './config';
export { start, type AuditHandle } from './service';
export { GENESIS_HASH, canonical, linkHash, nextLink, linkHolds } from './chain';
export { signCheckpoint, verifyCheckpoint, signingKeyFrom, keyIdOf, type SigningKey } from './checkpoint';
export { loadSigningKey, KEY_FILE } from './signing-key';
export { verifyTenant, Finding, VerifyReport } from './verify';
export { AuditVerifySubject, AuditVerifyRequest, AuditVerifyReply } from './verify-endpoint';
export { EventsPage, VerifyAnswer, PublicKeyAnswer, Problem } from './api-answers';
export { AuditFilters, EventsQuery, ExportQuery, TenantQuery } from './api-query';
export { authorize, AuditRealm, type AuditApiAuth, type Access } from './api-auth';
export { openApiDocument } from './openapi';
