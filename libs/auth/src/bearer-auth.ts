/**
 * Authentication of an HTTP request by its `Authorization: Bearer <API key>` header, as every Meshgate
 * HTTP API does it: the principal, or the status, one-line reason and `WWW-Authenticate` challenge
 * (RFC 6750) of the refusal. A verifier that cannot vouch for any key (its watch ended) makes a 503, not a
 * 401: the key may well be good. Pure: the verifier is passed in.
 */
import type { Principal } from '@meshgate/contracts';
import { bearerCredential } from './api-key-format';
import type { RefusalReason, VerifyResult } from './api-key-verifier';

/** The part of ApiKeyVerifier authentication needs. */
export interface KeyVerifier {
  verify(apiKey: string): VerifyResult;
}

/** Who sent the request, or why they are refused. */
export type BearerAuth =
  | { ok: true; principal: Principal; keyId: string }
  | {
      ok: false;
      status: 401 | 503;
      reason: RefusalReason | 'missing';
      detail: string;
      headers: Record<string, string>;
    };

const Details: Record<RefusalReason | 'missing', string> = {
  missing: 'an "Authorization: Bearer <API key>" header is required',
  malformed: 'the bearer credential is not a Meshgate API key',
  unknown: 'the API key is not valid',
  revoked: 'the API key was revoked',
  expired: 'the API key has expired',
  unavailable: 'API keys cannot be verified right now; retry later',
};

/** Authenticates the value of an Authorization header; `realm` names the API in the challenge. */
export function authenticateBearer(
  verifier: KeyVerifier,
  authorization: string | undefined,
  realm: string,
): BearerAuth {
  if (authorization === undefined || authorization === '') return refusal('missing', realm);
  const credential = bearerCredential(authorization);
  if (credential === null) return refusal('malformed', realm);
  const result = verifier.verify(credential);
  return result.ok ? result : refusal(result.reason, realm);
}

function refusal(reason: RefusalReason | 'missing', realm: string): BearerAuth & { ok: false } {
  const detail = Details[reason];
  if (reason === 'unavailable')
    return { ok: false, status: 503, reason, detail, headers: { 'retry-after': '5' } };
  const challenge =
    reason === 'missing'
      ? `Bearer realm="${realm}"`
      : `Bearer realm="${realm}", error="invalid_token", error_description="${detail}"`;
  return { ok: false, status: 401, reason, detail, headers: { 'www-authenticate': challenge } };
}
