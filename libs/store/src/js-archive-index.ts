/**
 * The id index of the embedded archive, without I/O: event id -> the stored message holding its record
 * (stream seq, tenant) and the record's position in it. It holds the newest messages of the stream up to a
 * number of ids: every message from its horizon (a stream seq) to `seen`, the last one it has read. When
 * it outgrows its size it drops its oldest messages and moves the horizon forward; ids stored before the
 * horizon are then unknown to it, and `complete` (nothing in the stream is older than the horizon) is lost.
 * js-archive-lookup.ts keeps it current and looks beyond it.
 */

/** One indexed message: the ids of its records by position (null where unreadable). */
export interface IndexedMessage {
  seq: number;
  tenant: string;
  /** The server's time of storing it, in ms; unknown for the writer's own messages until read. */
  timeMs: number | undefined;
  ids: readonly (string | null)[];
}

/** Where the record of an id is stored. */
export interface IndexHit {
  tenant: string;
  seq: number;
  pos: number;
}

const decoder = new TextDecoder();

/**
 * The index entry of a stored message (`data` its payload, `tenant` its subject's tenant token); one that
 * is not JSON has no ids, but is indexed all the same so that the index moves past it. Only the ids are
 * read: validating every record is left to the reads that return them.
 */
export function indexedMessage(
  seq: number,
  tenant: string,
  timeMs: number | undefined,
  data: Uint8Array,
): IndexedMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    return { seq, tenant, timeMs, ids: [] };
  }
  const records = isObject(raw) && raw['v'] === 2 && Array.isArray(raw['records']) ? raw['records'] : [raw];
  const ids = records.map((r: unknown) =>
    isObject(r) && isObject(r['event']) && typeof r['event']['id'] === 'string' ? r['event']['id'] : null,
  );
  return { seq, tenant, timeMs, ids };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The index itself; see the file header. */
export class ArchiveIndex {
  private readonly byId = new Map<string, IndexedMessage>();
  /** The indexed messages in stream order, from `messages[first]` (older entries are dropped ones). */
  private messages: IndexedMessage[] = [];
  private first = 0;
  private horizonSeq: number;
  private whole: boolean;
  private seenSeq: number;

  /**
   * An empty index whose horizon is stream seq `horizon` (nothing read yet); `complete` when the stream
   * holds nothing before it.
   */
  constructor(
    private readonly maxIds: number,
    horizon: number,
    complete: boolean,
  ) {
    this.horizonSeq = horizon;
    this.whole = complete;
    this.seenSeq = horizon - 1;
  }

  /** The last stream seq read: every message from the horizon to it is indexed. */
  get seen(): number {
    return this.seenSeq;
  }

  /** The oldest stream seq covered. */
  get horizon(): number {
    return this.horizonSeq;
  }

  /** True while no message of the stream is older than the horizon: a miss is then authoritative. */
  get complete(): boolean {
    return this.whole;
  }

  /** Ids indexed. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * The oldest indexed message (or undefined): its time bounds the time of every message before the
   * horizon from above.
   */
  get oldest(): IndexedMessage | undefined {
    return this.messages[this.first];
  }

  /**
   * Adds the next message read (its seq above `seen`; the messages between were read or do not exist).
   * An id stored twice points to its latest record, as a `last_by_subj` get of the single-record layout.
   */
  add(msg: IndexedMessage): void {
    if (msg.seq <= this.seenSeq) throw new RangeError(`stream seq ${msg.seq} is already indexed`);
    this.seenSeq = msg.seq;
    this.messages.push(msg);
    for (const id of msg.ids) if (id !== null) this.byId.set(id, msg);
    if (this.byId.size > this.maxIds) this.evict();
  }

  /** Where the record of `id` is, if the index knows it. */
  find(id: string): IndexHit | undefined {
    const msg = this.byId.get(id);
    if (!msg) return undefined;
    return { tenant: msg.tenant, seq: msg.seq, pos: msg.ids.lastIndexOf(id) };
  }

  /** Sets the time of the indexed message at `seq` if it is still the oldest one. */
  setOldestTime(seq: number, timeMs: number): void {
    const oldest = this.oldest;
    if (oldest?.seq === seq) oldest.timeMs = timeMs;
  }

  /**
   * Drops the oldest messages until a sixteenth of the room is free (so that the horizon, and the time
   * it needs, moves once per many writes), keeping the newest message whatever its size.
   */
  private evict(): void {
    const target = this.maxIds - Math.floor(this.maxIds / 16);
    while (this.byId.size > target && this.first < this.messages.length - 1) {
      const old = this.messages[this.first]!;
      for (const id of old.ids) if (id !== null && this.byId.get(id) === old) this.byId.delete(id);
      this.first++;
    }
    this.horizonSeq = this.messages[this.first]!.seq;
    this.whole = false;
    if (this.first > 1_024 && this.first * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.first);
      this.first = 0;
    }
  }
}
