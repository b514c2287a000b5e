/**
 * What "looks secret" to the audit trail: object keys whose name suggests a credential, and string values
 * that have the shape of one whatever their key. Pure predicates; the patterns are linear (no nested
 * quantifiers), so checking a long string costs one pass.
 */

/** Key names whose values are never kept (substring match, case-insensitive). */
const SecretKey =
  /token|secret|password|passwd|authorization|api[-_]?key|private[-_]?key|cookie|session[-_]?id|credential|bearer/i;

/** Value shapes that are credentials wherever they appear. */
const SecretValues: readonly RegExp[] = [
  /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+/, // JWT (header.payload)
  /\bbearer\s+\S{8,}/i, // an HTTP bearer credential
  /AKIA[0-9A-Z]{16}/, // AWS access key id
  /\bghp_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}/, // GitHub tokens
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, // PEM private keys
];

/** True when the value under this key must be redacted. */
export function isSecretKey(key: string): boolean {
  return SecretKey.test(key);
}

/** True when this string has the shape of a credential. */
export function looksSecret(value: string): boolean {
  return SecretValues.some((pattern) => pattern.test(value));
}
