/**
 * The embedded ServerCatalogue on JetStream KV (bucket `mg_registry`, history 1, file storage): the key is
 * the server name, the value a schema-versioned record (see server-entry.ts), the revision the KV revision.
 * Conditional writes map onto the KV's expected-last-sequence checks, so they are atomic on the server.
 * Routers may watch the same bucket directly; this adapter's `watch` is the typed way to do it.
 */
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import {
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  StorageType,
  type JetStreamClient,
} from '@nats-io/jetstream';
import { Empty, headers, type NatsConnection } from '@nats-io/nats-core';
import { Buckets, ServerName, type ServerDefinition, type ServerRecord } from '@meshgate/contracts';
import {
  RevisionConflict,
  type CatalogueChange,
  type CatalogueWatch,
  type ServerCatalogue,
  type WriteOptions,
} from './server-catalogue';
import { decodeServerEntry, encodeServerEntry } from './server-entry';

export interface KvServerCatalogueOptions {
  /** Bucket name; `mg_registry` unless a test isolates itself. */
  bucket?: string;
  /** Told about every entry that cannot be read (it is skipped). */
  onCorrupt?: (key: string, reason: string) => void;
  /** Told when a watch listener throws or a watch ends on an error. */
  onError?: (err: unknown) => void;
}

const isConflict = (err: unknown) =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
    err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

/** The ServerCatalogue on a JetStream KV bucket; open it with `KvServerCatalogue.open`. */
export class KvServerCatalogue implements ServerCatalogue {
  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly bucket: string,
    private readonly opts: KvServerCatalogueOptions,
  ) {}

  /** Binds to the bucket, creating it (history 1, file storage) when it is missing. */
  static async open(nc: NatsConnection, opts: KvServerCatalogueOptions = {}): Promise<KvServerCatalogue> {
    const bucket = opts.bucket ?? Buckets.registry;
    const js = jetstream(nc);
    const kv = await new Kvm(js).create(bucket, { history: 1, storage: StorageType.File });
    return new KvServerCatalogue(kv, js, bucket, opts);
  }

  async list(): Promise<ServerRecord[]> {
    const names: string[] = [];
    for await (const key of await this.kv.keys()) names.push(key);
    const records = await Promise.all(names.map((name) => this.read(name)));
    return records
      .filter((r): r is ServerRecord => r !== null)
      .sort((a, b) => compare(a.definition.name, b.definition.name));
  }

  async get(name: string): Promise<ServerRecord | null> {
    return ServerName.safeParse(name).success ? this.read(name) : null;
  }

  async put(definition: ServerDefinition, opts: WriteOptions = {}): Promise<ServerRecord> {
    const now = new Date();
    const value = encodeServerEntry(definition, now);
    const name = definition.name;
    let revision: number;
    try {
      if (opts.expectedRevision === undefined) revision = await this.kv.put(name, value);
      else if (opts.expectedRevision === 0) revision = await this.kv.create(name, value);
      else revision = await this.kv.update(name, value, opts.expectedRevision);
    } catch (err) {
      throw isConflict(err) ? new RevisionConflict(name, opts.expectedRevision ?? 0) : err;
    }
    const decoded = decodeServerEntry(name, value, revision);
    if (!decoded.ok) throw new Error(`encoded entry of "${name}" does not decode: ${decoded.reason}`);
    return decoded.record;
  }

  async remove(name: string, opts: WriteOptions = {}): Promise<number | null> {
    if (!ServerName.safeParse(name).success) return null;
    const entry = await this.kv.get(name);
    const present = entry !== null && entry.operation === 'PUT';
    if (!present) {
      if (opts.expectedRevision !== undefined && opts.expectedRevision !== 0)
        throw new RevisionConflict(name, opts.expectedRevision);
      return null;
    }
    if (opts.expectedRevision !== undefined && opts.expectedRevision !== entry.revision)
      throw new RevisionConflict(name, opts.expectedRevision);
    // A delete marker published with an expected last sequence: the KV wire protocol (ADR-8) of a delete,
    // done here rather than through kv.delete() because only the publish acknowledgement carries its revision.
    const hdrs = headers();
    hdrs.set('KV-Operation', 'DEL');
    try {
      const ack = await this.js.publish(`$KV.${this.bucket}.${name}`, Empty, {
        headers: hdrs,
        expect: { lastSubjectSequence: entry.revision },
      });
      return ack.seq;
    } catch (err) {
      throw isConflict(err) ? new RevisionConflict(name, opts.expectedRevision ?? entry.revision) : err;
    }
  }

  async watch(onChange: (change: CatalogueChange) => void): Promise<CatalogueWatch> {
    const iter = await this.kv.watch();
    const known = new Set<string>();
    const deliver = (change: CatalogueChange) => {
      try {
        onChange(change);
      } catch (err) {
        this.opts.onError?.(err);
      }
    };
    const loop = (async () => {
      for await (const entry of iter) {
        if (entry.operation === 'PUT') {
          const record = this.decode(entry);
          if (!record) continue;
          known.add(record.definition.name);
          deliver({ op: 'put', record });
        } else if (known.delete(entry.key)) {
          deliver({ op: 'delete', name: entry.key, revision: entry.revision });
        }
      }
    })().catch((err: unknown) => this.opts.onError?.(err));
    return {
      async stop() {
        iter.stop();
        await loop;
      },
    };
  }

  async ping(): Promise<void> {
    await this.kv.status();
  }

  private async read(name: string): Promise<ServerRecord | null> {
    const entry = await this.kv.get(name);
    return entry && entry.operation === 'PUT' ? this.decode(entry) : null;
  }

  private decode(entry: KvEntry): ServerRecord | null {
    const decoded = decodeServerEntry(entry.key, entry.value, entry.revision);
    if (decoded.ok) return decoded.record;
    this.opts.onCorrupt?.(entry.key, decoded.reason);
    return null;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
