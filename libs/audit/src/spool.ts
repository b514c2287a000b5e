/**
 * The on-disk spool of events the stream could not take (ADR 003): append-only JSONL segment files in one
 * directory, written in batches with one fsync per batch, bounded in bytes. The drainer reads the oldest
 * segment whole (sealing it first when it is the one being written) and deletes it once every event in it
 * is acknowledged. Segments left by a previous process are picked up on open. One process per directory.
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
  events: number;
  acked: number;
}

const SegmentFile = /^seg-(\d{12})\.jsonl$/;
const segmentFile = (n: number) => `seg-${String(n).padStart(12, '0')}.jsonl`;

export class Spool {
  private buffer: string[] = [];
  private bufferBytes = 0;
  private writing = { lines: 0, bytes: 0 };
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

  /** Opens (creating) the directory and takes over the segments found there. */
  static async open(
    dir: string,
    limits: SpoolLimits,
    onLost: (count: number, reason: string) => void,
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
      const events =
        size === 0 ? 0 : (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0).length;
      if (events === 0) await rm(path, { force: true });
      else segments.push({ n, bytes: size, events, acked: 0 });
    }
    return new Spool(dir, limits, segments, (numbers.at(-1) ?? 0) + 1, onLost);
  }

  /** Bytes held: on disk, being written and waiting. */
  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0) + this.writing.bytes + this.bufferBytes;
  }

  /** Events held and not yet acknowledged. */
  get events(): number {
    return (
      this.segments.reduce((sum, s) => sum + s.events - s.acked, 0) + this.writing.lines + this.buffer.length
    );
  }

  /** Queues one line for the next batch; false (nothing kept) when it would exceed `maxBytes`. */
  append(line: string): boolean {
    const size = Buffer.byteLength(line) + 1;
    if (this.bytes + size > this.limits.maxBytes) return false;
    this.buffer.push(line);
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

  /** Records that `count` more events of segment `n` reached the stream. */
  acknowledge(n: number, count: number): void {
    const segment = this.segments.find((s) => s.n === n);
    if (segment) segment.acked = Math.min(segment.events, segment.acked + count);
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
    this.writing = { lines: lines.length, bytes: this.bufferBytes };
    this.buffer = [];
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
        active.segment.bytes += chunk.length;
        active.segment.events += end - written;
        this.writing = {
          lines: this.writing.lines - (end - written),
          bytes: this.writing.bytes - chunk.length,
        };
        written = end;
      }
    } catch (err) {
      // The file may hold a partial line now: continue in a new segment, where readers start clean.
      await this.seal().catch(() => undefined);
      this.onLost(lines.length - written, `spool write failed: ${(err as Error).message}`);
    } finally {
      this.writing = { lines: 0, bytes: 0 };
    }
  }

  private async writable(): Promise<{ segment: Segment; fh: FileHandle }> {
    if (this.active && this.active.segment.bytes < this.limits.segmentBytes) return this.active;
    await this.seal();
    const n = this.nextN++;
    const fh = await open(join(this.dir, segmentFile(n)), 'a');
    const segment: Segment = { n, bytes: 0, events: 0, acked: 0 };
    this.segments.push(segment);
    this.active = { segment, fh };
    return this.active;
  }
}
