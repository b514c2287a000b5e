/**
 * The policy sets at rest: KV `mg_policies`, key `set.<name>`, value a PolicySetRecord (schema version 1).
 * Nothing is stored that does not compile against the Meshgate schema; every write is a compare-and-set
 * on the entry's revision (retried when another writer won, so concurrent replicas loading the same files
 * converge), and a text equal to the stored one is not written again. `ifMatch` (the SHA-256 a client
 * read) makes a change conditional on nobody having changed the set since.
 */
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { PolicySetName, PolicySetRecord } from '@meshgate/contracts';
import {
  compilePolicySet,
  decodePolicyRecord,
  encodePolicyRecord,
  openPolicyBucket,
  PolicySetKeyPrefix,
  policySetKey,
  type CompileError,
  type CompiledPolicySet,
} from '@meshgate/policy';

/** A record with the KV revision it was read or written at. */
export interface StoredPolicySet {
  record: PolicySetRecord;
  revision: number;
}

/** The outcome of a save: what is stored now, and the compiled set. */
export interface SavedPolicySet extends StoredPolicySet {
  status: 'created' | 'updated' | 'unchanged';
  compiled: CompiledPolicySet;
}

/** The text does not compile (422); the stored set stays. */
export class InvalidPolicySet extends Error {
  constructor(readonly errors: CompileError[]) {
    super(`the policy set is invalid: ${errors[0]?.message ?? 'unknown error'}`);
    this.name = 'InvalidPolicySet';
  }
}

/** The set changed since the client read it (412). */
export class PolicySetChanged extends Error {
  constructor(name: string) {
    super(`policy set "${name}" does not have the SHA-256 given in If-Match; read it again`);
    this.name = 'PolicySetChanged';
  }
}

/** The record would exceed what the NATS server accepts in one message (413). */
export class PolicySetTooLarge extends Error {
  constructor(bytes: number, limit: number) {
    super(`the stored policy set would take ${bytes} bytes; this NATS server accepts at most ${limit}`);
    this.name = 'PolicySetTooLarge';
  }
}

const MaxCasAttempts = 5;

/** The policy sets of every tenant; open it with `PolicyStore.open`. */
export class PolicyStore {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly onCorrupt: (name: string, reason: string) => void,
  ) {}

  /** Binds to the bucket, creating it when it is missing. */
  static async open(
    nc: NatsConnection,
    bucket: string,
    onCorrupt: (name: string, reason: string) => void = () => {},
  ): Promise<PolicyStore> {
    return new PolicyStore(nc, await openPolicyBucket(nc, bucket), onCorrupt);
  }

  /** The stored set `name`, or null. */
  async get(name: PolicySetName): Promise<StoredPolicySet | null> {
    const entry = await this.kv.get(policySetKey(name));
    if (entry === null || entry.operation !== 'PUT') return null;
    const decoded = decodePolicyRecord(entry);
    if (!decoded.ok) {
      this.onCorrupt(name, decoded.reason);
      return null;
    }
    return { record: decoded.record, revision: entry.revision };
  }

  /** Every readable stored set, by name. */
  async list(): Promise<StoredPolicySet[]> {
    const names: string[] = [];
    for await (const key of await this.kv.keys(`${PolicySetKeyPrefix}>`))
      names.push(key.slice(PolicySetKeyPrefix.length));
    const stored = await Promise.all(names.sort().map((name) => this.get(name)));
    return stored.filter((s): s is StoredPolicySet => s !== null);
  }

  /**
   * Compiles `text` and stores it as the set `name` unless the same text is stored already; with
   * `createOnly`, an existing set is left as it is. Throws InvalidPolicySet, PolicySetChanged or
   * PolicySetTooLarge.
   */
  async save(
    name: PolicySetName,
    text: string,
    source: string,
    opts: { ifMatch?: string; createOnly?: boolean } = {},
  ): Promise<SavedPolicySet> {
    const compiled = compilePolicySet(name, text);
    if (!compiled.ok) throw new InvalidPolicySet(compiled.errors);
    const record: PolicySetRecord = {
      v: 1,
      name,
      text,
      source: source.slice(0, 1024),
      updatedAt: new Date().toISOString(),
      sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
    };
    const bytes = encodePolicyRecord(record);
    const limit = this.nc.info?.max_payload ?? 1024 * 1024;
    if (bytes.length > limit - 1024) throw new PolicySetTooLarge(bytes.length, limit - 1024);
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(name);
      if (opts.ifMatch !== undefined && current?.record.sha256 !== opts.ifMatch)
        throw new PolicySetChanged(name);
      if (current && (opts.createOnly || current.record.sha256 === record.sha256))
        return { ...current, status: 'unchanged', compiled: compiled.set };
      try {
        const revision = current
          ? await this.kv.update(policySetKey(name), bytes, current.revision)
          : await this.kv.create(policySetKey(name), bytes);
        return { record, revision, status: current ? 'updated' : 'created', compiled: compiled.set };
      } catch (err) {
        if (!isRevisionConflict(err) || attempt >= MaxCasAttempts) throw err;
      }
    }
  }

  /** Deletes the set `name`; false when there was none. */
  async remove(name: PolicySetName, opts: { ifMatch?: string } = {}): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(name);
      if (opts.ifMatch !== undefined && current?.record.sha256 !== opts.ifMatch)
        throw new PolicySetChanged(name);
      if (current === null) return false;
      try {
        await this.kv.delete(policySetKey(name), { previousSeq: current.revision });
        return true;
      } catch (err) {
        if (!isRevisionConflict(err) || attempt >= MaxCasAttempts) throw err;
      }
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
