/**
 * Resource subscriptions on one upstream connection. Several sessions may share a connection, and the
 * upstream knows only one subscriber (the gateway), so the upstream is subscribed while at least one
 * session is and unsubscribed when the last one leaves. Also what a re-initialised connection re-sends.
 */

export class SubscriptionBook {
  private readonly byUri = new Map<string, Set<string>>();

  /** True when some session already holds `uri` (the upstream need not be asked again). */
  isSubscribed(uri: string): boolean {
    return (this.byUri.get(uri)?.size ?? 0) > 0;
  }

  add(uri: string, sessionId: string): void {
    const set = this.byUri.get(uri) ?? new Set<string>();
    set.add(sessionId);
    this.byUri.set(uri, set);
  }

  /**
   * Removes one session's subscription; true when the upstream should be told (nobody else holds `uri`).
   */
  remove(uri: string, sessionId: string): boolean {
    const set = this.byUri.get(uri);
    if (!set) return true;
    set.delete(sessionId);
    if (set.size > 0) return false;
    this.byUri.delete(uri);
    return true;
  }

  /** Removes every subscription of a session; returns the URIs nobody holds any more. */
  dropSession(sessionId: string): string[] {
    const released: string[] = [];
    for (const [uri, set] of this.byUri) {
      if (set.delete(sessionId) && set.size === 0) {
        this.byUri.delete(uri);
        released.push(uri);
      }
    }
    return released;
  }

  /** The sessions subscribed to `uri`. */
  subscribers(uri: string): string[] {
    return [...(this.byUri.get(uri) ?? [])];
  }

  /** Every subscribed URI. */
  uris(): string[] {
    return [...this.byUri.keys()];
  }
}
