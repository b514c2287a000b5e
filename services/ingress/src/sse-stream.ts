/**
 * One SSE stream to an agent. Every event gets an id `<streamId>_<seq>` and is published to the event log
 * before it is written to the socket, so a resumer on any replica finds it; recording goes on after the
 * agent disconnects, until the owner ends the stream. Keep-alive comments hold idle proxies open, and a
 * client that stops reading is cut off instead of growing memory without bound.
 */
import type { ServerResponse } from 'node:http';
import type { JsonRpcId } from '@meshgate/contracts';
import type { EventLog, StoredEvent } from './event-log';
import { formatEventId } from './event-id';

/** Bytes an agent may leave unread before its connection is dropped. */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

/** Everything one SSE stream writer needs. */
export interface SseStreamOptions {
  res: ServerResponse;
  sessionId: string;
  streamId: string;
  kind: StoredEvent['kind'];
  /** Seq of the first event this writer sends; 1 for a new stream. */
  firstSeq: number;
  /** New stream: record its start marker and, when the agent supports it, send the priming event. */
  fresh: boolean;
  priming: boolean;
  retryMs: number;
  keepAliveMs: number;
  /**
   * Where events are recorded for resumption. Without it events are neither recorded nor given ids: the
   * legacy HTTP+SSE transport (spec 2024-11-05) has no resumption.
   */
  log?: EventLog;
  headers: Record<string, string>;
  /** POST streams: the request this stream answers and when its answer is due. */
  request?: { id: JsonRpcId; deadline: number };
  onOpenChange?: (delta: 1 | -1) => void;
}

type Message = NonNullable<StoredEvent['message']>;

/** Writes one SSE response and records its events; see the file header. */
export class SseStream {
  private nextSeq: number;
  private keepAlive: NodeJS.Timeout | undefined;
  private isOpen = false;
  private written = 0;

  constructor(private readonly o: SseStreamOptions) {
    this.nextSeq = o.firstSeq;
  }

  /** Bytes of the body written to the agent so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /** True while the agent's connection can still be written to. */
  get writable(): boolean {
    return !this.o.res.destroyed && !this.o.res.writableEnded;
  }

  /** Sends the SSE response head and, for a fresh stream, the priming event. */
  open(): void {
    const { res } = this.o;
    if (!this.writable) return;
    this.isOpen = true;
    this.o.onOpenChange?.(1);
    res.once('close', () => this.closed());
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...this.o.headers,
    });
    if (this.o.fresh) {
      this.record(0, null, false);
      if (this.o.priming)
        this.write(`id: ${formatEventId(this.o.streamId, 0)}\nretry: ${this.o.retryMs}\ndata: \n\n`);
    } else {
      this.write(`retry: ${this.o.retryMs}\n\n`);
    }
    res.flushHeaders();
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), this.o.keepAliveMs);
    this.keepAlive.unref();
  }

  /** Records and sends a message; `final` marks the response that completes a POST stream. */
  send(message: Message, final = false): void {
    const seq = this.nextSeq++;
    this.record(seq, message, final);
    this.writeEvent(this.o.log ? formatEventId(this.o.streamId, seq) : null, message);
  }

  /** Sends an event of another type than `message`, e.g. the legacy transport's `endpoint`; one line of data. */
  sendEvent(type: string, data: string): void {
    this.write(`event: ${type}\ndata: ${data.replace(/[\r\n]/g, '')}\n\n`);
  }

  /** Sends an event replayed from the log, under its original id. */
  sendStored(event: StoredEvent): void {
    if (event.message === null) return;
    this.nextSeq = Math.max(this.nextSeq, event.seq + 1);
    this.writeEvent(formatEventId(this.o.streamId, event.seq), event.message);
  }

  /** Ends the response (the agent may reconnect with its last event id). */
  end(): void {
    if (this.writable) this.o.res.end();
    this.closed();
  }

  private record(seq: number, message: Message | null, final: boolean): void {
    const { request, log } = this.o;
    if (!log) return;
    const event: StoredEvent = {
      v: 1,
      kind: this.o.kind,
      seq,
      message,
      final,
      ...(request ? { requestId: request.id, deadline: request.deadline } : {}),
    };
    log.append(this.o.sessionId, this.o.streamId, event);
  }

  private writeEvent(id: string | null, message: Message): void {
    const data = `event: message\ndata: ${JSON.stringify(message)}\n\n`;
    this.write(id === null ? data : `id: ${id}\n${data}`);
  }

  private write(chunk: string): void {
    const { res } = this.o;
    if (!this.writable) return;
    res.write(chunk);
    this.written += Buffer.byteLength(chunk);
    if (res.writableLength > MAX_UNREAD_BYTES) res.destroy();
  }

  private closed(): void {
    clearInterval(this.keepAlive);
    if (!this.isOpen) return;
    this.isOpen = false;
    this.o.onOpenChange?.(-1);
  }
}
