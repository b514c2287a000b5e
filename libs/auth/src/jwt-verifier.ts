/**
 * Verifies JWT bearer tokens (OIDC ID tokens, RFC 9068 access tokens) against the configured issuers:
 * the issuer is picked by the token's unverified `iss` (exact match), then jose checks the signature with
 * the issuer's JWKS and the claims (issuer, audience = the gateway unless configured, exp required,
 * nbf and iat, each with the issuer's clock tolerance). Key sets are fetched lazily, cached, and fetched
 * again for an unknown `kid` at most once per cooldown, which is how a key rotation is picked up. When keys
 * cannot be had the answer is `unavailable` (a 503), never a guess.
 */
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Principal } from '@meshgate/contracts';
import { boundedFetch, discoverJwksUri, KeySourceError, type FetchLike } from './issuer-discovery';
import { missingScopes, principalFromClaims, scopesFromClaims } from './jwt-claims';
import { JwtIssuerConfig, SecureUrl, type JwtIssuerInput } from './jwt-issuers';
import { jwtRefusalOf, type JwtRefusal } from './jwt-refusal';

export type { JwtRefusal, JwtRefusalReason } from './jwt-refusal';

/** The outcome of one verification; `expiresAt` is the token's `exp` in epoch milliseconds. */
export type JwtResult =
  { ok: true; principal: Principal; scopes: string[]; issuer: string; expiresAt: number } | JwtRefusal;

/** How the verifier reaches key sets and tells time. */
export interface JwtVerifierOptions {
  /** The gateway's resource URL (RFC 9728 `resource`): the audience unless an issuer sets its own. */
  resource: string;
  /** Used for discovery and key sets; `globalThis.fetch` by default. */
  fetch?: FetchLike;
  /** The clock claims are checked against, in epoch milliseconds; `Date.now` by default. */
  now?: () => number;
  /** Deadline of one metadata or key set fetch; 5 s by default. */
  fetchTimeoutMs?: number;
  /** Least time between two key set fetches caused by unknown key ids; 30 s by default. */
  jwksCooldownMs?: number;
  /** How long a fetched key set is used before it is fetched again; 10 minutes by default. */
  jwksMaxAgeMs?: number;
  /** Told (for the log) why an issuer's keys could not be had; the caller only sees `unavailable`. */
  onKeySourceError?: (issuer: string, err: Error) => void;
}

/** Longest token looked at: far above a real one, and it bounds the decoding work. */
export const MaxTokenLength = 16 * 1024;
const Compact = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

interface TrustedIssuer {
  config: JwtIssuerConfig;
  audience: string;
  keys: Promise<JWTVerifyGetKey> | undefined;
}

/** Verifies bearer JWTs for one gateway resource. */
export class JwtVerifier {
  private readonly trusted = new Map<string, TrustedIssuer>();
  private readonly fetchImpl: FetchLike;
  private readonly now: () => number;

  /** Validates the issuers (throws an Error listing every problem) and the resource URL. */
  constructor(
    issuers: readonly JwtIssuerInput[],
    private readonly opts: JwtVerifierOptions,
  ) {
    const resource = SecureUrl.safeParse(opts.resource);
    if (!resource.success) throw new Error(`the gateway resource URL ${resource.error.issues[0]?.message}`);
    for (const [index, input] of issuers.entries()) {
      const parsed = JwtIssuerConfig.safeParse(input);
      if (!parsed.success)
        throw new Error(`JWT issuer ${index} is invalid:\n${parsed.error.issues.map(line).join('\n')}`);
      if (this.trusted.has(parsed.data.issuer))
        throw new Error(`JWT issuer ${parsed.data.issuer} is configured twice`);
      const audience = parsed.data.audience ?? opts.resource;
      this.trusted.set(parsed.data.issuer, { config: parsed.data, audience, keys: undefined });
    }
    this.fetchImpl = boundedFetch(
      opts.fetch ?? ((url, init) => fetch(url, init)),
      opts.fetchTimeoutMs ?? 5_000,
    );
    this.now = opts.now ?? Date.now;
  }

  /** The trusted issuer identifiers (the `authorization_servers` of the resource metadata). */
  get issuers(): string[] {
    return [...this.trusted.keys()];
  }

  /** Every scope some issuer requires, for the `scope` of a 401 challenge. */
  get requiredScopes(): string[] {
    return [...new Set([...this.trusted.values()].flatMap((t) => t.config.requiredScopes ?? []))];
  }

  /** Verifies one bearer token. Never throws for anything a caller sent. */
  async verify(token: string): Promise<JwtResult> {
    if (token.length > MaxTokenLength) return refuse('malformed', 'the token is longer than 16 KB');
    if (!Compact.test(token)) return refuse('malformed', 'the token is not a compact signed JWT');
    let header: JWSHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      return refuse('malformed', 'the token is not a JWT (bad encoding or JSON)');
    }
    const trusted = typeof unverified.iss === 'string' ? this.trusted.get(unverified.iss) : undefined;
    if (!trusted) return refuse('unknown-issuer', 'the token was not issued by a trusted issuer');
    const { config } = trusted;
    if (typeof header.alg !== 'string' || !(config.algorithms as string[]).includes(header.alg))
      return refuse('invalid', "the token's signature algorithm is not accepted");

    let claims: JWTPayload;
    try {
      const keys = await this.keysOf(trusted);
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: trusted.audience,
        algorithms: config.algorithms,
        clockTolerance: config.clockToleranceS,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      if (err instanceof KeySourceError) this.opts.onKeySourceError?.(config.issuer, err);
      return jwtRefusalOf(err);
    }

    const nowS = this.now() / 1000;
    if (typeof claims.iat === 'number' && claims.iat > nowS + config.clockToleranceS)
      return refuse('invalid', 'the token claims to be issued in the future');
    const mapped = principalFromClaims(claims, config);
    if (!mapped.ok) return refuse('invalid', mapped.detail);
    const scopes = scopesFromClaims(claims);
    if (scopes === null) return refuse('invalid', 'the scope claim of the token is malformed');
    const required = config.requiredScopes ?? [];
    if (missingScopes(scopes, required).length > 0)
      return {
        ...refuse('insufficient_scope', 'the token lacks a scope this gateway requires'),
        scopes: required,
      };
    const expiresAt = (claims.exp ?? 0) * 1000;
    return { ok: true, principal: mapped.principal, scopes, issuer: config.issuer, expiresAt };
  }

  /** The key resolver of an issuer, created on first use; a failed discovery is tried again next time. */
  private keysOf(trusted: TrustedIssuer): Promise<JWTVerifyGetKey> {
    trusted.keys ??= this.resolverFor(trusted.config).catch((err: unknown) => {
      trusted.keys = undefined;
      throw err instanceof KeySourceError ? err : new KeySourceError(String(err), { cause: err });
    });
    return trusted.keys;
  }

  private async resolverFor(config: JwtIssuerConfig): Promise<JWTVerifyGetKey> {
    const url = config.jwksUri
      ? new URL(config.jwksUri)
      : await discoverJwksUri(config.issuer, this.fetchImpl);
    const remote = createRemoteJWKSet(url, {
      timeoutDuration: this.opts.fetchTimeoutMs ?? 5_000,
      cooldownDuration: this.opts.jwksCooldownMs ?? 30_000,
      cacheMaxAge: this.opts.jwksMaxAgeMs ?? 600_000,
      [customFetch]: this.fetchImpl,
    });
    return async (header, input) => {
      try {
        return await remote(header, input);
      } catch (err) {
        // A token naming no key of the set is the token's fault; anything else is the key source's.
        if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
          throw err;
        throw new KeySourceError(`the key set at ${url.href} cannot be used: ${String(err)}`, { cause: err });
      }
    };
  }
}

function refuse(reason: JwtRefusal['reason'], detail: string): JwtRefusal {
  return { ok: false, reason, detail };
}

function line(issue: { path: PropertyKey[]; message: string }): string {
  return `  ${issue.path.map(String).join('.') || '(issuer)'}: ${issue.message}`;
}
