/**
 * The API key as text: `mgk_<keyId>_<secret>`, keyId 16 hex digits (the record's KV key, not secret),
 * secret 32 random bytes in base64url (43 characters). Only the SHA-256 of the secret is ever stored. A
 * fast hash is the right one here: the secret holds 256 random bits, so there is nothing to guess and a
 * slow password hash (bcrypt, scrypt, argon2) would only cost every request time. Pure: no I/O.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The prefix of every Meshgate API key, so that secret scanners and people recognise one. */
export const ApiKeyPrefix = 'mgk_';

/** The length of every API key: the prefix, 16 hex digits, `_` and 43 base64url characters. */
export const ApiKeyLength = 64;

const KEY = /^mgk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** Longest Authorization header value looked at; a key is 64 characters. */
const MAX_BEARER = 512;

/** A key split into its parts. */
export interface ParsedApiKey {
  keyId: string;
  secret: string;
}

/** A freshly generated key: its parts, the text handed to its owner, and the digest to store. */
export interface GeneratedApiKey extends ParsedApiKey {
  apiKey: string;
  hash: string;
}

/** Generates a new key from the system's CSPRNG. */
export function generateApiKey(): GeneratedApiKey {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secret, apiKey: `${ApiKeyPrefix}${keyId}_${secret}`, hash: hashSecret(secret) };
}

/** Splits `text` into key id and secret; null when it is not a well-formed key. */
export function parseApiKey(text: string): ParsedApiKey | null {
  if (text.length !== ApiKeyLength) return null;
  const m = KEY.exec(text);
  return m ? { keyId: m[1]!, secret: m[2]! } : null;
}

/** Hex SHA-256 of a secret: what a record keeps. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/**
 * True when `secret` hashes to `hashHex` (hex text, or its bytes when the caller keeps them decoded). The
 * digests are compared in constant time, so the time taken tells nothing about how much of a guess was right.
 */
export function secretMatches(secret: string, hashHex: string | Buffer): boolean {
  const expected = typeof hashHex === 'string' ? Buffer.from(hashHex, 'hex') : hashHex;
  // One-shot hash: no Hash object per request (this runs for every authenticated MCP request).
  const presented = hash('sha256', secret, 'buffer');
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

/**
 * The credential of an `Authorization: Bearer <credential>` header value; null when the header is absent,
 * of another scheme, or not one bounded token. The scheme name is case-insensitive (RFC 9110).
 */
export function bearerCredential(header: string | undefined): string | null {
  if (header === undefined || header.length > MAX_BEARER + 7) return null;
  const m = /^Bearer +([\x21-\x7e]+)$/i.exec(header);
  return m?.[1] ?? null;
}
