/**
 * Agent sessions: the record lives in the NATS KV bucket `mg_sessions` (TTL from config) so that any
 * replica serves any session, with a local LRU in front of it. A record is written again when half its
 * TTL has passed, so active sessions live on. `mg.v1.session.*.ended` evicts the cached copy everywhere.
 */
import { randomBytes } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { Subscription } from '@nats-io/nats-core';
import { decodeJson, encodeJson, type Bus } from '@meshgate/bus';
import { Buckets, SessionRecord, Subjects, parseSessionSubject } from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';
import { LruCache } from './lru-cache';

/** Bucket TTL and cache bounds. */
export interface SessionStoreOptions {
  ttlS: number;
  cacheSize?: number;
  cacheMaxAgeMs?: number;
  logger: Logger;
}

/** Session records in KV behind a local cache. */
export interface SessionStore {
  /** The record, from the cache or KV; null when unknown or expired. */
  get(sessionId: string): Promise<SessionRecord | null>;
  put(record: SessionRecord): Promise<void>;
  /**
   * Rewrites a record only if it is still the revision this replica read (compare-and-set); false when it
   * changed or was deleted meanwhile, so a late write never brings a deleted session back.
   */
  update(record: SessionRecord): Promise<boolean>;
  /** Removes the record; false when there was none. */
  delete(sessionId: string): Promise<boolean>;
  /** Registers a listener for sessions ended on any replica. */
  onEnded(listener: (sessionId: string) => void): void;
  readonly cachedCount: number;
  stop(): void;
}

interface Cached {
  record: SessionRecord;
  writtenAt: number;
  revision: number;
}

/** A new session id: 32 random bytes, base64url (43 characters, a valid subject token). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

async function openBucket(bus: Bus, ttlS: number): Promise<KV> {
  const kvm = new Kvm(bus.nc);
  const create = () => kvm.create(Buckets.sessions, { ttl: ttlS * 1000, history: 1 });
  try {
    return await create();
  } catch {
    // Another replica created the bucket at the same moment; the second attempt finds it.
    return await create();
  }
}

/** Opens the session bucket (creating it if missing) and subscribes to session-end events. */
export async function openSessionStore(bus: Bus, opts: SessionStoreOptions): Promise<SessionStore> {
  const kv = await openBucket(bus, opts.ttlS);
  const cache = new LruCache<string, Cached>({
    capacity: opts.cacheSize ?? 10_000,
    maxAgeMs: opts.cacheMaxAgeMs ?? 30_000,
  });
  const listeners: ((sessionId: string) => void)[] = [];
  const halfTtlMs = (opts.ttlS * 1000) / 2;

  const ended: Subscription = bus.nc.subscribe(Subjects.sessionEndedAll, {
    callback: (_err, msg) => {
      const parsed = parseSessionSubject(msg.subject);
      if (!parsed) return;
      cache.delete(parsed.sessionId);
      for (const l of listeners) l(parsed.sessionId);
    },
  });

  const write = async (record: SessionRecord) => {
    const revision = await kv.put(record.session.id, encodeJson(record));
    cache.set(record.session.id, { record, writtenAt: Date.now(), revision });
  };

  // Rewrites the record unless another replica changed it meanwhile (then its newer copy stands).
  const refresh = (hit: Cached) => {
    const fresh = { ...hit, writtenAt: Date.now() };
    cache.set(hit.record.session.id, fresh);
    kv.update(hit.record.session.id, encodeJson(hit.record), hit.revision).then(
      (revision) => cache.set(hit.record.session.id, { ...fresh, revision }),
      (err: unknown) => opts.logger.debug({ err }, 'session refresh skipped'),
    );
  };

  const load = async (sessionId: string): Promise<Cached | null> => {
    const entry = await kv.get(sessionId);
    if (!entry || entry.operation !== 'PUT') return null;
    try {
      const record = decodeJson(SessionRecord, entry.value, 'session record');
      const value = { record, writtenAt: entry.created.getTime(), revision: entry.revision };
      cache.set(sessionId, value);
      return value;
    } catch (err) {
      opts.logger.warn({ err, sessionId: sessionId.slice(0, 8) }, 'unreadable session record ignored');
      return null;
    }
  };

  return {
    async get(sessionId) {
      const hit = cache.get(sessionId) ?? (await load(sessionId));
      if (!hit) return null;
      if (Date.now() - hit.writtenAt > halfTtlMs) refresh(hit);
      return hit.record;
    },
    put: write,
    async update(record) {
      const id = record.session.id;
      const base = cache.get(id) ?? (await load(id));
      if (!base) return false;
      try {
        const revision = await kv.update(id, encodeJson(record), base.revision);
        cache.set(id, { record, writtenAt: Date.now(), revision });
        return true;
      } catch (err) {
        // The next read takes the current record (or its absence) from KV instead of this stale copy.
        cache.delete(id);
        opts.logger.debug({ err }, 'session record changed meanwhile: not rewritten');
        return false;
      }
    },
    async delete(sessionId) {
      cache.delete(sessionId);
      const entry = await kv.get(sessionId);
      if (!entry || entry.operation !== 'PUT') return false;
      await kv.delete(sessionId);
      return true;
    },
    onEnded(listener) {
      listeners.push(listener);
    },
    get cachedCount() {
      return cache.size;
    },
    stop() {
      ended.unsubscribe();
    },
  };
}
