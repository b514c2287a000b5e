/**
 * Verifies API keys without a NATS round trip per request: an in-memory copy of the key bucket, fed by a
 * KV watch, so that a new key, a revocation or an expiry set on any replica reaches this one as soon as
 * JetStream delivers the change (milliseconds, well under a second). A key's first verification is a map
 * lookup, one SHA-256 and a constant-time comparison; later ones of the same key text are one map lookup
 * (see `remembered`). When the watch ends without `stop()` (the connection closed),
 * every key is refused as `unavailable`: a replica that can no longer learn of revocations fails closed.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/nats-core';
import type { ApiKeyRecord, Principal } from '@meshgate/contracts';
import { parseApiKey, secretMatches } from './api-key-format';
import type { StoredApiKey } from './api-key-store';
import { decodeKeyEntry, openKeyBucket, type OnCorrupt } from './key-bucket';

/** Why a key was refused. */
export type RefusalReason = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'unavailable';

/** The outcome of one verification. */
export type VerifyResult =
  { ok: true; principal: Principal; keyId: string; scheme: 'api-key' } | { ok: false; reason: RefusalReason };

/** How many accepted keys the verifier remembers (its memory of them is dropped whole beyond that). */
export const MaxRememberedKeys = 10_000;

export interface ApiKeyVerifierOptions {
  /** Bucket name; `mg_api_keys` unless a test isolates itself. */
  bucket?: string;
  /** The clock expiry and revocation instants are compared with; `Date.now` by default. */
  now?: () => number;
  /** How long `start` waits for the bucket's current content; 10 s by default. */
  loadTimeoutMs?: number;
  onCorrupt?: OnCorrupt;
  /** Told when the watch ends on an error (the verifier then refuses every key). */
  onError?: (err: unknown) => void;
}

/** What the verifier knows of one key id, at the KV revision it learnt it; null record: deleted. */
interface Known {
  revision: number;
  record: ApiKeyRecord | null;
  /** The record's digest as bytes, decoded once rather than per request. */
  digest: Buffer | null;
  /** When the key stops being active (its revocation or expiry instant, parsed once); Infinity: never. */
  revokedMs: number;
  expiresMs: number;
  /** The one answer for this key while it is active, shared by every request that presents it. */
  accepted: VerifyResult | null;
}

const Malformed: VerifyResult = Object.freeze({ ok: false, reason: 'malformed' });
const Unavailable: VerifyResult = Object.freeze({ ok: false, reason: 'unavailable' });
const Unknown: VerifyResult = Object.freeze({ ok: false, reason: 'unknown' });
const Revoked: VerifyResult = Object.freeze({ ok: false, reason: 'revoked' });
const Expired: VerifyResult = Object.freeze({ ok: false, reason: 'expired' });

/** A running verifier; create it with `ApiKeyVerifier.start`. */
export class ApiKeyVerifier {
  private readonly keys = new Map<string, Known>();
  /**
   * Keys presented and accepted, by their full text, so that a key seen before costs one map lookup
   * rather than a parse and a SHA-256. An entry counts only while it is the very Known of its key id: a
   * rotation, revocation or deletion learns a new one, so the entry stops matching at once. A lookup by
   * the whole text hashes all of it, so its timing tells nothing of how much of a secret was guessed.
   * Kept in this process's memory only, never stored or logged, and bounded by MaxRememberedKeys.
   */
  private readonly remembered = new Map<string, Known>();
  private readonly now: () => number;
  private watch: QueuedIterator<KvWatchEntry> | undefined;
  private loop: Promise<void> | undefined;
  private state: 'loading' | 'live' | 'failed' | 'stopped' = 'loading';

  private constructor(private readonly opts: ApiKeyVerifierOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Watches the bucket (created when missing) and resolves once its current content is loaded. */
  static async start(nc: NatsConnection, opts: ApiKeyVerifierOptions = {}): Promise<ApiKeyVerifier> {
    const verifier = new ApiKeyVerifier(opts);
    await verifier.load(await openKeyBucket(nc, opts.bucket));
    return verifier;
  }

  /** Verifies the text of an API key (the credential of a bearer header). */
  verify(apiKey: string): VerifyResult {
    const seen = this.remembered.get(apiKey);
    if (seen !== undefined && this.state === 'live' && this.keys.get(seen.record!.keyId) === seen)
      return this.statusOf(seen);
    const parsed = parseApiKey(apiKey);
    if (parsed === null) return Malformed;
    if (this.state !== 'live') return Unavailable;
    const known = this.keys.get(parsed.keyId);
    // The secret is checked before anything about the key is told: without it, every key is "unknown".
    if (!known?.record || !known.digest || !secretMatches(parsed.secret, known.digest)) return Unknown;
    if (this.remembered.size >= MaxRememberedKeys) this.remembered.clear();
    this.remembered.set(apiKey, known);
    return this.statusOf(known);
  }

  /** The answer for a key whose secret matched: active, revoked or expired now. */
  private statusOf(known: Known): VerifyResult {
    const now = this.now();
    if (known.revokedMs <= now) return Revoked;
    if (known.expiresMs <= now) return Expired;
    return known.accepted ?? Unknown;
  }

  /**
   * Applies a write this process just made, before the watch delivers it, so that a key revoked or
   * issued here takes effect here at once. Older revisions than the one known are ignored.
   */
  observe(stored: StoredApiKey): void {
    this.learn(stored.record.keyId, stored.revision, stored.record);
  }

  /** True while the watch runs and the copy is current. */
  healthy(): boolean {
    return this.state === 'live';
  }

  /** Keys known (revoked and expired ones included). */
  get size(): number {
    let n = 0;
    for (const known of this.keys.values()) if (known.record) n++;
    return n;
  }

  /** Ends the watch; every key is refused afterwards. Safe to call twice. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    this.remembered.clear();
    this.watch?.stop();
    await this.loop;
  }

  private async load(kv: KV): Promise<void> {
    const { state } = (await kv.status()).streamInfo;
    // The watch first delivers the last value of every key; the newest message of the stream is among
    // them, so the copy is current once the revision seen at start has arrived.
    const target = state.messages === 0 ? 0 : state.last_seq;
    let loaded!: () => void;
    const current = new Promise<void>((resolve) => (loaded = resolve));
    if (target === 0) {
      this.state = 'live';
      loaded();
    }
    this.watch = await kv.watch();
    const watch = this.watch;
    this.loop = (async () => {
      for await (const entry of watch) {
        if (entry.operation === 'PUT') {
          const decoded = decodeKeyEntry(entry);
          if (!decoded.ok) this.opts.onCorrupt?.(entry.key, decoded.reason);
          this.learn(entry.key, entry.revision, decoded.ok ? decoded.record : null);
        } else {
          this.learn(entry.key, entry.revision, null);
        }
        if (this.state === 'loading' && entry.revision >= target) {
          this.state = 'live';
          loaded();
        }
      }
    })()
      .catch((err: unknown) => this.opts.onError?.(err))
      .finally(() => {
        if (this.state !== 'stopped') this.state = 'failed';
        loaded();
      });
    const timeoutMs = this.opts.loadTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the API key bucket did not load within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([current, timeout]);
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (this.state !== 'live') throw new Error('the API key watch ended before the bucket was loaded');
  }

  private learn(keyId: string, revision: number, record: ApiKeyRecord | null): void {
    const known = this.keys.get(keyId);
    if (known && known.revision >= revision) return;
    const principal = record ? principalOf(record) : null;
    this.keys.set(keyId, {
      revision,
      record,
      digest: record ? Buffer.from(record.hash, 'hex') : null,
      revokedMs: instant(record?.revokedAt),
      expiresMs: instant(record?.expiresAt),
      accepted: principal ? Object.freeze({ ok: true, principal, keyId, scheme: 'api-key' }) : null,
    });
  }
}

/** An ISO instant in epoch ms; Infinity when absent (never). */
function instant(iso: string | undefined): number {
  return iso === undefined ? Number.POSITIVE_INFINITY : Date.parse(iso);
}

/** The principal a record authenticates; frozen, since every request of the key shares it. */
function principalOf(record: ApiKeyRecord): Principal {
  return Object.freeze({
    tenant: record.tenant,
    id: record.principal,
    kind: record.kind,
    roles: Object.freeze([...record.roles]) as Principal['roles'],
    groups: Object.freeze([...record.groups]) as Principal['groups'],
  });
}
