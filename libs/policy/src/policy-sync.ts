/**
 * Keeps a PolicyEngine in step with the policy bucket (`mg_policies`, key `set.<name>`, value the JSON of
 * a PolicySetRecord), as every replica that decides does: `start` loads the bucket's current content,
 * then a KV watch applies each change within milliseconds. A record that does not decode, whose digest
 * does not match its text, or whose text does not compile is reported and leaves the set in force as it
 * was; a deleted record takes its set out of force. Other keys of the bucket (the limits) are skipped.
 * When the watch ends without `stop()` the sync is unhealthy: the caller must stop trusting its sets.
 */
import { createHash } from 'node:crypto';
import { Kvm, type KV, type KvEntry, type KvWatchEntry } from '@nats-io/kv';
import { jetstream, StorageType } from '@nats-io/jetstream';
import type { NatsConnection, QueuedIterator } from '@nats-io/nats-core';
import { Buckets, PolicySetName, PolicySetRecord } from '@meshgate/contracts';
import { compilePolicySet, type CompileError } from './compile';
import type { PolicyEngine } from './engine';

/** The prefix of policy set keys in the bucket. */
export const PolicySetKeyPrefix = 'set.';

/** The KV key of the set `name`. */
export function policySetKey(name: PolicySetName): string {
  return `${PolicySetKeyPrefix}${name}`;
}

/** Binds to the policy bucket (default `mg_policies`, history 5), creating it when it is missing. */
export async function openPolicyBucket(nc: NatsConnection, name: string = Buckets.policies): Promise<KV> {
  return new Kvm(jetstream(nc)).create(name, { history: 5, storage: StorageType.File });
}

/** The bytes stored for `record`. */
export function encodePolicyRecord(record: PolicySetRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}

/** The record of a PUT entry of key `set.<name>`, or the reason it cannot be one. */
export function decodePolicyRecord(
  entry: Pick<KvEntry, 'key' | 'value'>,
): { ok: true; record: PolicySetRecord } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entry.value));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = PolicySetRecord.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `not a PolicySetRecord v1 (${issue?.path.join('.') ?? ''}: ${issue?.message})`,
    };
  }
  const record = parsed.data;
  if (policySetKey(record.name) !== entry.key) return { ok: false, reason: 'the record names another set' };
  if (createHash('sha256').update(record.text, 'utf8').digest('hex') !== record.sha256)
    return { ok: false, reason: 'the sha256 does not match the text' };
  return { ok: true, record };
}

export interface PolicySyncOptions {
  engine: PolicyEngine;
  /** Bucket name; `mg_policies` unless a test isolates itself. */
  bucket?: string;
  /** Told about a record that was not installed (the set in force stays). */
  onInvalid?: (name: string, errors: CompileError[]) => void;
  /** Told when the watch ends on an error (the sync is then unhealthy). */
  onError?: (err: unknown) => void;
  /** Told after a set was installed or removed. */
  onChange?: (name: PolicySetName, revision: number, change: 'installed' | 'removed') => void;
  /** How long `start` waits for the bucket's current content; 10 s by default. */
  loadTimeoutMs?: number;
}

/** A running sync; create it with `PolicySync.start`. */
export class PolicySync {
  private watch: QueuedIterator<KvWatchEntry> | undefined;
  private loop: Promise<void> | undefined;
  private state: 'loading' | 'live' | 'failed' | 'stopped' = 'loading';
  private lastRevision = 0;

  private constructor(private readonly opts: PolicySyncOptions) {}

  /** Watches the bucket (created when missing) and resolves once its current content is applied. */
  static async start(nc: NatsConnection, opts: PolicySyncOptions): Promise<PolicySync> {
    const sync = new PolicySync(opts);
    await sync.load(await openPolicyBucket(nc, opts.bucket));
    return sync;
  }

  /** True while the watch runs and the engine holds the bucket's sets. */
  healthy(): boolean {
    return this.state === 'live';
  }

  /** The last KV revision of the bucket applied. */
  get revision(): number {
    return this.lastRevision;
  }

  /** Ends the watch. Safe to call twice. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    this.watch?.stop();
    await this.loop;
  }

  private async load(kv: KV): Promise<void> {
    const { state } = (await kv.status()).streamInfo;
    // The watch first delivers the last value of every key, the newest message among them.
    const target = state.messages === 0 ? 0 : state.last_seq;
    let loaded!: () => void;
    const current = new Promise<void>((resolve) => (loaded = resolve));
    if (target === 0) {
      this.state = 'live';
      loaded();
    }
    const watch = await kv.watch();
    this.watch = watch;
    this.loop = (async () => {
      for await (const entry of watch) {
        this.apply(entry);
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
        () => reject(new Error(`the policy bucket did not load within ${timeoutMs} ms`)),
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
    if (this.state !== 'live') throw new Error('the policy watch ended before the bucket was loaded');
  }

  private apply(entry: KvWatchEntry): void {
    this.lastRevision = Math.max(this.lastRevision, entry.revision);
    if (!entry.key.startsWith(PolicySetKeyPrefix)) return;
    const name = entry.key.slice(PolicySetKeyPrefix.length);
    if (!PolicySetName.safeParse(name).success) {
      this.opts.onInvalid?.(name, [{ message: 'the key does not name a policy set' }]);
      return;
    }
    const { engine } = this.opts;
    if (entry.operation !== 'PUT') {
      engine.remove(name);
      this.opts.onChange?.(name, entry.revision, 'removed');
      return;
    }
    const decoded = decodePolicyRecord(entry);
    if (!decoded.ok) {
      this.opts.onInvalid?.(name, [{ message: `unreadable record: ${decoded.reason}` }]);
      return;
    }
    const compiled = compilePolicySet(name, decoded.record.text);
    if (!compiled.ok) {
      this.opts.onInvalid?.(name, compiled.errors);
      return;
    }
    engine.install(compiled.set, entry.revision);
    this.opts.onChange?.(name, entry.revision, 'installed');
  }
}
