/**
 * A bounded least-recently-used cache whose entries also expire after `maxAgeMs`, so a record changed by
 * another replica is read again within that time. Pure (time comes from `now`).
 */

/** Capacity, entry lifetime and (for tests) the clock. */
export interface LruOptions {
  capacity: number;
  maxAgeMs: number;
  now?: () => number;
}

/** A Map-backed LRU cache with per-entry expiry. */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; at: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: LruOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, refreshed as most recently used; undefined when absent or older than `maxAgeMs`. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (this.now() - entry.at > this.opts.maxAgeMs) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at: this.now() });
    while (this.entries.size > this.opts.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }
}
