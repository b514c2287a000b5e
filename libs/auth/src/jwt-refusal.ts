/**
 * Why a JWT was refused, and the translation of jose's errors into those reasons. The details are short
 * fixed sentences: they reach the client (problem details, `error_description`), so none of them repeats
 * a claim value, a key id or anything else taken from the token. Pure: no I/O.
 */
import { errors } from 'jose';
import { KeySourceError } from './issuer-discovery';

/** Why a token was refused. */
export type JwtRefusalReason =
  'malformed' | 'unknown-issuer' | 'invalid' | 'expired' | 'audience' | 'unavailable' | 'insufficient_scope';

/** A refusal: the reason, a detail safe to show, and for `insufficient_scope` the scopes needed. */
export interface JwtRefusal {
  ok: false;
  reason: JwtRefusalReason;
  detail: string;
  scopes?: string[];
}

const ClaimDetails: Record<string, string> = {
  aud: 'the token is not meant for this gateway (audience)',
  nbf: 'the token is not valid yet',
  iat: 'the token claims to be issued in the future',
  iss: 'the token was not issued by a trusted issuer',
  exp: 'the token has no valid expiry',
};

/** The refusal for an error thrown by jose's `jwtVerify` (or by the key resolver it called); total. */
export function jwtRefusalOf(err: unknown): JwtRefusal {
  if (err instanceof KeySourceError)
    return refusal('unavailable', "the issuer's signing keys cannot be fetched right now; retry later");
  if (err instanceof errors.JWTExpired) return refusal('expired', 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return refusal('audience', ClaimDetails['aud']!);
    if (err.claim === 'iss') return refusal('unknown-issuer', ClaimDetails['iss']!);
    return refusal('invalid', ClaimDetails[err.claim] ?? 'a claim of the token is not valid');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return refusal('invalid', "the token's signature is not valid");
  if (err instanceof errors.JWKSNoMatchingKey)
    return refusal('invalid', 'no signing key of the issuer matches the token');
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return refusal('invalid', 'the token does not name which of the issuer keys signed it');
  if (err instanceof errors.JOSEAlgNotAllowed)
    return refusal('invalid', "the token's signature algorithm is not accepted");
  // Any other error (jose's or not) fails closed: the token is refused, and nothing crashes.
  return refusal('invalid', 'the token is not a valid signed JWT');
}

function refusal(reason: JwtRefusalReason, detail: string): JwtRefusal {
  return { ok: false, reason, detail };
}
