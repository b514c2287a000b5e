/**
 * A cache of access tokens ("grants") by key, shared by the OAuth client credentials and token exchange
 * credentials: a token is reused until shortly before it expires, fetched once however many requests ask at
 * the same time, replaced once when an upstream refused it (401), and a failed fetch is never kept. Keys are
 * digests chosen by the callers; they never hold a secret in clear.
 */

/** An access token and when to stop using it (undefined: until the upstream refuses it). */
export interface Grant {
  token: string;
  renewAt: number | undefined;
}

/** Fetches a new grant for one key. */
export type GrantFetch = (now: number) => Promise<Grant>;

/** Grants by key, with single-flight fetching. */
export class GrantCache {
  private readonly grants = new Map<string, Grant>();
  private readonly fetching = new Map<string, Promise<Grant>>();

  /** `now` is the clock; beyond `maxEntries` grants the oldest one is dropped. */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 1000,
  ) {}

  /** A token still valid for a while: the cached one, or a new one from `fetch`. */
  async token(key: string, fetch: GrantFetch): Promise<string> {
    const grant = this.grants.get(key);
    if (grant && (grant.renewAt === undefined || this.now() < grant.renewAt)) return grant.token;
    return (await this.fetch(key, fetch)).token;
  }

  /**
   * Replaces `refused`, a token the upstream answered 401 to, unless it was already replaced (many requests
   * refused at once cause one fetch). Resolves to the token to retry with.
   */
  async renew(key: string, refused: string, fetch: GrantFetch): Promise<string> {
    const pending = this.fetching.get(key);
    if (pending) return (await pending).token;
    const grant = this.grants.get(key);
    if (grant && grant.token !== refused) return this.token(key, fetch);
    this.grants.delete(key);
    return (await this.fetch(key, fetch)).token;
  }

  private fetch(key: string, fetch: GrantFetch): Promise<Grant> {
    const pending = this.fetching.get(key);
    if (pending) return pending;
    const fetching = fetch(this.now())
      .then((grant) => {
        this.grants.delete(key);
        this.grants.set(key, grant);
        if (this.grants.size > this.maxEntries) this.grants.delete(this.grants.keys().next().value as string);
        return grant;
      })
      .finally(() => this.fetching.delete(key));
    this.fetching.set(key, fetching);
    return fetching;
  }
}
