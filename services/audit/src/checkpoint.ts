/**
 * Signed checkpoints of a tenant's chain, pure: Ed25519 (node:crypto) over the RFC 8785 JSON of
 * `{tenant, seq, hash, time}`. A checkpoint proves what the chain was at `seq`; whoever holds the public key
 * can tell a rewritten chain from the original, even one rewritten consistently from that point on.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Checkpoint } from '@meshgate/store';
import { canonical } from './chain';

/** A signing key pair with what verifiers need to recognise its public half. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as SPKI PEM, the form published for verifiers. */
  publicKeyPem: string;
  /** First 16 hex digits of the SHA-256 of the SPKI DER form. */
  keyId: string;
}

/** The id of a public key: first 16 hex digits of the SHA-256 of its SPKI DER form. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** Builds a SigningKey from an Ed25519 private key; throws when the key is of another type. */
export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(
      `the audit signing key must be Ed25519, not ${privateKey.asymmetricKeyType ?? 'unknown'}`,
    );
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, publicKey, publicKeyPem, keyId: keyIdOf(publicKey) };
}

function signedBytes(cp: Pick<Checkpoint, 'tenant' | 'seq' | 'hash' | 'time'>): Buffer {
  return Buffer.from(canonical({ tenant: cp.tenant, seq: cp.seq, hash: cp.hash, time: cp.time }));
}

/** Signs a checkpoint of `tenant` at `seq` with chain hash `hash`, made at `time`. */
export function signCheckpoint(
  key: SigningKey,
  at: { tenant: string; seq: number; hash: string },
  time: Date,
): Checkpoint {
  const body = { tenant: at.tenant, seq: at.seq, hash: at.hash, time: time.toISOString() };
  const signature = sign(null, signedBytes(body), key.privateKey).toString('base64');
  return { v: 1, ...body, keyId: key.keyId, signature };
}

/** True when `cp` carries a valid signature by `publicKey`. */
export function verifyCheckpoint(cp: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedBytes(cp), publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}
