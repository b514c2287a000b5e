/**
 * The persistence port of the server catalogue: what the registry writes and the routers read. Adapters
 * (the embedded JetStream KV one here, a MongoDB one later) all pass the same conformance suite, so the
 * services never know which one runs. Revisions give optimistic concurrency: a write may name the revision
 * it expects to replace, and loses with a RevisionConflict when another writer got there first.
 */
import type { ServerDefinition, ServerName, ServerRecord } from '@meshgate/contracts';

/** Options of a conditional write. */
export interface WriteOptions {
  /**
   * The revision the write expects to replace: `0` means "the server must not exist yet"; a positive
   * number means "the server must exist at exactly this revision". Omitted: write unconditionally.
   */
  expectedRevision?: number;
}

/** One change seen by a watcher: a server was written, or removed at `revision`. */
export type CatalogueChange =
  { op: 'put'; record: ServerRecord } | { op: 'delete'; name: ServerName; revision: number };

/** A running watch; `stop()` ends it and is safe to call more than once. */
export interface CatalogueWatch {
  stop(): Promise<void>;
}

/** The catalogue of upstream servers, keyed by server name. */
export interface ServerCatalogue {
  /** Every readable record, sorted by name. Unreadable (corrupt) entries are skipped and reported. */
  list(): Promise<ServerRecord[]>;
  /** The record of `name`, or null when there is none (or the name cannot exist). */
  get(name: string): Promise<ServerRecord | null>;
  /** Creates or replaces the record of `definition.name`; validates the definition first. */
  put(definition: ServerDefinition, opts?: WriteOptions): Promise<ServerRecord>;
  /**
   * Removes the record of `name`. Returns the revision of the removal (greater than any revision the
   * record had), or null when there was nothing to remove.
   */
  remove(name: string, opts?: WriteOptions): Promise<number | null>;
  /**
   * Calls `onChange` for every current record (as a put) and then for every later change, in order,
   * until the returned watch is stopped. Resolves once the watch is established.
   */
  watch(onChange: (change: CatalogueChange) => void): Promise<CatalogueWatch>;
  /** Resolves when the backing store answers; rejects when it cannot be reached. */
  ping(): Promise<void>;
}

/** A conditional write lost: the record is not at the revision the writer expected. */
export class RevisionConflict extends Error {
  constructor(
    readonly serverName: string,
    readonly expectedRevision: number,
  ) {
    super(
      expectedRevision === 0
        ? `server "${serverName}" already exists`
        : `server "${serverName}" is not at revision ${expectedRevision}`,
    );
    this.name = 'RevisionConflict';
  }
}

/** A definition handed to `put` does not satisfy the ServerDefinition schema. */
export class InvalidServerDefinition extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid server definition: ${problems.join('; ')}`);
    this.name = 'InvalidServerDefinition';
  }
}
