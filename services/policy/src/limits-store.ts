/**
 * The limits at rest: KV `mg_policies`, key `limits`, value the JSON of a LimitsConfig and nothing else
 * (every router parses it strictly with the same schema and feeds libs/policy's Limiter). Only a valid
 * LimitsConfig is stored, in canonical form (the schema's key order, defaults filled in), so equal limits
 * have equal bytes and limits equal to the stored ones are not written again. Every write is a
 * compare-and-set on the entry's revision (retried when another writer won); `ifMatch` (the SHA-256 a
 * client read as ETag) makes a change conditional. No stored limits read as `{v: 1, rules: []}`.
 */
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { LimitsConfig, LimitsKey } from '@meshgate/contracts';
import { openPolicyBucket } from '@meshgate/policy';

/** The largest limits document accepted, in bytes (file or request body): 1 MB, as a policy set. */
export const MaxLimitsBytes = 1_000_000;

/** What no stored limits mean: no rule, nothing is limited. */
export const NoLimits: LimitsConfig = { v: 1, rules: [] };

/** One reason limits were refused: where in the document (dotted, `""` for the whole), and what. */
export interface LimitsIssue {
  path: string;
  message: string;
}

/** The limits in force, as stored. */
export interface StoredLimits {
  config: LimitsConfig;
  /** SHA-256 of the stored bytes (of the canonical NoLimits when nothing is stored): the ETag. */
  sha256: string;
  /** KV revision of the entry; 0 when nothing is stored. */
  revision: number;
}

/** The outcome of a save: `config` is the limits given, validated and canonical. */
export interface SavedLimits extends StoredLimits {
  status: 'created' | 'updated' | 'unchanged';
}

/** The limits are not a valid LimitsConfig (422); nothing is stored. */
export class InvalidLimits extends Error {
  constructor(readonly issues: LimitsIssue[]) {
    const first = issues[0];
    super(
      `the limits are invalid: ${first ? `${first.path || '(document)'}: ${first.message}` : 'rejected'}`,
    );
    this.name = 'InvalidLimits';
  }
}

/** The limits changed since the client read them (412). */
export class LimitsChanged extends Error {
  constructor() {
    super('the limits do not have the SHA-256 given in If-Match; read them again');
    this.name = 'LimitsChanged';
  }
}

/** The limits would exceed what the NATS server accepts in one message (413). */
export class LimitsTooLarge extends Error {
  constructor(bytes: number, limit: number) {
    super(`the stored limits would take ${bytes} bytes; this NATS server accepts at most ${limit}`);
    this.name = 'LimitsTooLarge';
  }
}

/** The stored value is not a LimitsConfig (written around this service); a valid PUT replaces it (409). */
export class LimitsUnreadable extends Error {
  constructor(reason: string) {
    super(`the stored limits are unreadable (${reason}); routers keep the previous ones; replace them`);
    this.name = 'LimitsUnreadable';
  }
}

/** Validates `input` as a LimitsConfig; throws InvalidLimits listing every issue with its path. */
export function parseLimits(input: unknown): LimitsConfig {
  const parsed = LimitsConfig.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidLimits(
    parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}

/** The canonical bytes stored for `config` (compact JSON in the schema's key order). */
export function encodeLimits(config: LimitsConfig): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(config));
}

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const NoLimitsSha256 = sha256Of(encodeLimits(NoLimits));
const MaxCasAttempts = 5;

/** What the key holds now: `config` null when its value is unreadable (`reason` says why). */
interface Current {
  sha256: string;
  revision: number;
  config: LimitsConfig | null;
  reason: string;
}

/** The limits of the gateway; open it with `LimitsStore.open`. */
export class LimitsStore {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
  ) {}

  /** Binds to the policy bucket, creating it when it is missing. */
  static async open(nc: NatsConnection, bucket: string): Promise<LimitsStore> {
    return new LimitsStore(nc, await openPolicyBucket(nc, bucket));
  }

  /** The limits in force (NoLimits, revision 0, when none are stored); throws LimitsUnreadable. */
  async get(): Promise<StoredLimits> {
    const { config, sha256, revision, reason } = await this.read();
    if (config === null) throw new LimitsUnreadable(reason);
    return { config, sha256, revision };
  }

  /**
   * Validates `input` and stores it unless equal limits are stored; with `createOnly`, anything stored
   * is left as it is. Throws InvalidLimits, LimitsChanged or LimitsTooLarge.
   */
  async save(input: unknown, opts: { ifMatch?: string; createOnly?: boolean } = {}): Promise<SavedLimits> {
    const config = parseLimits(input);
    const bytes = encodeLimits(config);
    const limit = (this.nc.info?.max_payload ?? 1024 * 1024) - 1024;
    if (bytes.length > limit) throw new LimitsTooLarge(bytes.length, limit);
    const sha256 = sha256Of(bytes);
    for (let attempt = 1; ; attempt++) {
      const current = await this.read();
      if (opts.ifMatch !== undefined && current.sha256 !== opts.ifMatch) throw new LimitsChanged();
      if (current.sha256 === sha256 || (opts.createOnly && current.revision > 0))
        return { config, sha256: current.sha256, revision: current.revision, status: 'unchanged' };
      try {
        const revision =
          current.revision > 0
            ? await this.kv.update(LimitsKey, bytes, current.revision)
            : await this.kv.create(LimitsKey, bytes);
        return { config, sha256, revision, status: current.revision > 0 ? 'updated' : 'created' };
      } catch (err) {
        if (!isRevisionConflict(err) || attempt >= MaxCasAttempts) throw err;
      }
    }
  }

  /** Deletes the stored limits (nothing is limited any more); false when none were stored. */
  async remove(opts: { ifMatch?: string } = {}): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read();
      if (opts.ifMatch !== undefined && current.sha256 !== opts.ifMatch) throw new LimitsChanged();
      if (current.revision === 0) return false;
      try {
        await this.kv.delete(LimitsKey, { previousSeq: current.revision });
        return true;
      } catch (err) {
        if (!isRevisionConflict(err) || attempt >= MaxCasAttempts) throw err;
      }
    }
  }

  private async read(): Promise<Current> {
    const entry = await this.kv.get(LimitsKey);
    if (entry === null || entry.operation !== 'PUT')
      return { config: NoLimits, sha256: NoLimitsSha256, revision: 0, reason: '' };
    const current = { sha256: sha256Of(entry.value), revision: entry.revision };
    try {
      const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entry.value));
      return { ...current, config: parseLimits(json), reason: '' };
    } catch (err) {
      const reason = err instanceof InvalidLimits ? err.message : 'not UTF-8 JSON';
      return { ...current, config: null, reason };
    }
  }
}

/** True when a KV write lost a compare-and-set. */
function isRevisionConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
