/**
 * The router's reader of principals' stored upstream tokens (libs/auth UpstreamTokenStore on KV
 * `mg_upstream_tokens`), for `principal-token` servers. The store is opened on first use, so a replica
 * without MESHGATE_UPSTREAM_TOKEN_KEY starts and serves every other server; reads are cached briefly
 * (found and missing alike) so connections and requests do not each cost a KV read, and a token the
 * upstream refused is dropped from the cache to be read again. Errors never hold a token.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import {
  UpstreamTokenBucket,
  UpstreamTokenKeyring,
  UpstreamTokenStore,
  upstreamTokenKey,
  type UpstreamTokenOwner,
} from '@meshgate/auth';
import { CredentialError, type SecretEnvironment } from './secret-values';

/** How long a read token (or its absence) is reused. */
export const PrincipalTokenTtlMs = 10_000;
/** Overrides the bucket (tests isolate themselves with it). */
export const UpstreamTokenBucketVar = 'MESHGATE_UPSTREAM_TOKEN_BUCKET';

/** Reads principals' upstream tokens. */
export interface PrincipalTokenSource {
  /** The token of `owner` for `server`, undefined when none is stored; rejects with a CredentialError. */
  token(owner: UpstreamTokenOwner, server: string): Promise<string | undefined>;
  /** Drops the cached read, so the next `token` reads the store again. */
  forget(owner: UpstreamTokenOwner, server: string): void;
}

/** What the cache reads through. */
export type TokenReader = Pick<UpstreamTokenStore, 'get'>;

/** A briefly caching reader over a store opened on first use (and again after a failed open). */
export class CachedPrincipalTokens implements PrincipalTokenSource {
  private readonly cache = new Map<string, { token: string | undefined; until: number }>();
  private store: Promise<TokenReader> | undefined;

  constructor(
    private readonly open: () => Promise<TokenReader>,
    private readonly ttlMs = PrincipalTokenTtlMs,
    private readonly now: () => number = Date.now,
  ) {}

  async token(owner: UpstreamTokenOwner, server: string): Promise<string | undefined> {
    const key = upstreamTokenKey(owner, server);
    const cached = this.cache.get(key);
    if (cached && this.now() < cached.until) return cached.token;
    let found: string | null;
    try {
      found = await (await this.opened()).get(owner, server);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new CredentialError(`upstream token of ${owner.tenant}/${owner.principal} on ${server}: ${why}`);
    }
    this.cache.delete(key);
    this.cache.set(key, { token: found ?? undefined, until: this.now() + this.ttlMs });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    return found ?? undefined;
  }

  forget(owner: UpstreamTokenOwner, server: string): void {
    this.cache.delete(upstreamTokenKey(owner, server));
  }

  private opened(): Promise<TokenReader> {
    this.store ??= this.open().catch((err: unknown) => {
      this.store = undefined;
      throw err;
    });
    return this.store;
  }
}

/** The reader of a replica: the store on `nc`, its key from MESHGATE_UPSTREAM_TOKEN_KEY, read at first use. */
export function principalTokensOn(
  nc: NatsConnection,
  env: SecretEnvironment = process.env,
): PrincipalTokenSource {
  return new CachedPrincipalTokens(async () => {
    const keyring = UpstreamTokenKeyring.fromEnv(env);
    const bucket = env[UpstreamTokenBucketVar];
    return UpstreamTokenStore.open(nc, keyring, { bucket: bucket ? bucket : UpstreamTokenBucket });
  });
}
