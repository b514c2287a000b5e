/**
 * The on-disk spool of events the stream could not take (ADR 003): append-only JSONL segment files in one
 * directory, written in batches with one fsync per batch, bounded in bytes. The drainer reads the oldest
 * segment whole (sealing it first when it is the one being written) and deletes it once every event in it
 * is acknowledged. Segments left by a previous process are picked up on open. One process per directory.
 * A line is one message of the stream and may carry several events: each line has a weight (its events),
 * so that `events` counts events while acknowledgements count lines.
 */
import { mkdir, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface SpoolLimits {
  /** Bytes on disk plus bytes waiting to be written; an append past this is refused. */
  maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
}

/** A closed segment handed to the drainer: its number and its non-empty lines in order. */
export interface SealedSegment {
  n: number;
  lines: string[];
}

interface Segment {
  n: number;
  bytes: number;
  /** The weight (events) of each line, in order. */
  weights: number[];
  /** Lines acknowledged, from the front, and their weight. */
  acked: number;
  ackedWeight: number;
}

const sum = (values: readonly number[]) => values.reduce((total, v) => total + v, 0);

const SegmentFile = /^seg-(\d{12})\.jsonl$/;
const segmentFile = (n: number) => `seg-${String(n).padStart(12, '0')}.jsonl`;

export class Spool {
  private buffer: string[] = [];
  private bufferWeights: number[] = [];
  private bufferBytes = 0;
  private writing = { weight: 0, bytes: 0 };
  private active: { segment: Segment; fh: FileHandle } | undefined;
  private flushScheduled = false;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly limits: SpoolLimits,
    private readonly segments: Segment[],
    private nextN: number,
    private readonly onLost: (count: number, reason: string) => void,
  ) {}

  /**
   * Opens (creating) the directory and takes over the segments found there; `weigh` tells the events of a
   * line found on disk.
   */
  static async open(
    dir: string,
    limits: SpoolLimits,
    onLost: (count: number, reason: string) => void,
    weigh: (line: string) => number = () => 1,
  ): Promise<Spool> {
    await mkdir(dir, { recursive: true });
    const numbers = (await readdir(dir))
      .map((name) => SegmentFile.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    for (const n of numbers) {
      const path = join(dir, segmentFile(n));
      const { size } = await stat(path);
      const lines = size === 0 ? [] : (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
      if (lines.length === 0) await rm(path, { force: true });
      else segments.push({ n, bytes: size, weights: lines.map(weigh), acked: 0, ackedWeight: 0 });
    }
    return new Spool(dir, limits, segments, (numbers.at(-1) ?? 0) + 1, onLost);
  }

  /** Bytes held: on disk, being written and waiting. */
  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0) + this.writing.bytes + this.bufferBytes;
  }

  /** Events held and not yet acknowledged (the weights of the lines). */
  get events(): number {
    return (
      this.segments.reduce((total, s) => total + sum(s.weights) - s.ackedWeight, 0) +
      this.writing.weight +
      sum(this.bufferWeights)
    );
  }

  /**
   * Queues one line of `weight` events for the next batch; false (nothing kept) when it would exceed
   * `maxBytes`.
   */
  append(line: string, weight = 1): boolean {
    const size = Buffer.byteLength(line) + 1;
    if (this.bytes + size > this.limits.maxBytes) return false;
    this.buffer.push(line);
    this.bufferWeights.push(weight);
    this.bufferBytes += size;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
    return true;
  }

  /** Writes and fsyncs everything appended so far. Never rejects: lost lines are reported to `onLost`. */
  flush(): Promise<void> {
    return this.serial(() => this.writeBatch());
  }

  /** The oldest segment, sealed so nothing is appended to it any more; undefined when none is on disk. */
  async oldest(): Promise<SealedSegment | undefined> {
    await this.flush();
    return this.serial(async () => {
      const first = this.segments[0];
      if (!first) return undefined;
      if (this.active?.segment === first) await this.seal();
      const text = await readFile(join(this.dir, segmentFile(first.n)), 'utf8');
      return { n: first.n, lines: text.split('\n').filter((l) => l.length > 0) };
    });
  }

  /** Records that `lines` more lines of segment `n` reached the stream; returns their events. */
  acknowledge(n: number, lines: number): number {
    const segment = this.segments.find((s) => s.n === n);
    if (!segment) return 0;
    const end = Math.min(segment.weights.length, segment.acked + lines);
    const weight = sum(segment.weights.slice(segment.acked, end));
    segment.acked = end;
    segment.ackedWeight += weight;
    return weight;
  }

  /** Deletes a sealed segment whose events are all acknowledged. */
  remove(n: number): Promise<void> {
    return this.serial(async () => {
      const i = this.segments.findIndex((s) => s.n === n);
      if (i < 0 || this.active?.segment === this.segments[i]) return;
      await rm(join(this.dir, segmentFile(n)), { force: true });
      this.segments.splice(i, 1);
    });
  }

  /** Flushes and closes the file being written. */
  async close(): Promise<void> {
    await this.flush();
    await this.serial(() => this.seal());
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async seal(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    await active?.fh.close();
  }

  private async writeBatch(): Promise<void> {
    this.flushScheduled = false;
    const lines = this.buffer;
    const weights = this.bufferWeights;
    this.writing = { weight: sum(weights), bytes: this.bufferBytes };
    this.buffer = [];
    this.bufferWeights = [];
    this.bufferBytes = 0;
    let written = 0;
    try {
      while (written < lines.length) {
        const active = await this.writable();
        const room = Math.max(1, this.limits.segmentBytes - active.segment.bytes);
        let size = 0;
        let end = written;
        while (end < lines.length && size + Buffer.byteLength(lines[end] as string) + 1 <= room) {
          size += Buffer.byteLength(lines[end] as string) + 1;
          end++;
        }
        if (end === written) end++; // one line larger than a segment gets a segment of its own
        const chunk = Buffer.from(lines.slice(written, end).join('\n') + '\n');
        await active.fh.write(chunk);
        await active.fh.datasync();
        const chunkWeights = weights.slice(written, end);
        active.segment.bytes += chunk.length;
        active.segment.weights.push(...chunkWeights);
        this.writing = {
          weight: this.writing.weight - sum(chunkWeights),
          bytes: this.writing.bytes - chunk.length,
        };
        written = end;
      }
    } catch (err) {
      // The file may hold a partial line now: continue in a new segment, where readers start clean.
      await this.seal().catch(() => undefined);
      this.onLost(sum(weights.slice(written)), `spool write failed: ${(err as Error).message}`);
    } finally {
      this.writing = { weight: 0, bytes: 0 };
    }
  }

  private async writable(): Promise<{ segment: Segment; fh: FileHandle }> {
    if (this.active && this.active.segment.bytes < this.limits.segmentBytes) return this.active;
    await this.seal();
    const n = this.nextN++;
    const fh = await open(join(this.dir, segmentFile(n)), 'a');
    const segment: Segment = { n, bytes: 0, weights: [], acked: 0, ackedWeight: 0 };
    this.segments.push(segment);
    this.active = { segment, fh };
    return this.active;
  }
}
