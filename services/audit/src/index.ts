/** The audit archiver's public surface: configuration, start, the chain, checkpoints and verification. */
export { loadConfig, AuditEnv, type AuditConfig } from './config';
export { start, type AuditHandle } from './service';
export { GENESIS_HASH, canonical, linkHash, nextLink, linkHolds } from './chain';
export { signCheckpoint, verifyCheckpoint, signingKeyFrom, keyIdOf, type SigningKey } from './checkpoint';
export { loadSigningKey, KEY_FILE } from './signing-key';
export { verifyTenant, Finding, VerifyReport } from './verify';
export { AuditVerifySubject, AuditVerifyRequest, AuditVerifyReply } from './verify-endpoint';
