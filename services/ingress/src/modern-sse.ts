/**
 * An SSE response to a 2026-07-28 agent: events without ids (the era has no resumption, so nothing is
 * recorded in the event log and no client is invited to reconnect with Last-Event-ID), keep-alive comments
 * for quiet periods, and a client that stops reading is cut off instead of growing memory without bound.
 */
import type { ServerResponse } from 'node:http';

/** Bytes an agent may leave unread before its connection is dropped. */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

/** Writes one SSE response; see the file header. */
export class ModernSse {
  private keepAlive: NodeJS.Timeout | undefined;
  private written = 0;
  private opened = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly keepAliveMs: number,
    private readonly onOpenChange?: (delta: 1 | -1) => void,
  ) {}

  /** Bytes of the body written so far. */
  get bytesWritten(): number {
    return this.written;
  }

  get writable(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  /** Sends the response head; the stream stays open until `end()` or the agent leaves. */
  open(): void {
    if (this.opened || !this.writable) return;
    this.opened = true;
    this.onOpenChange?.(1);
    this.res.once('close', () => this.closed());
    this.res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), this.keepAliveMs);
    this.keepAlive.unref();
  }

  /** Sends one JSON-RPC message as an event. */
  send(message: unknown): void {
    this.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  end(): void {
    if (this.writable) this.res.end();
    this.closed();
  }

  private write(chunk: string): void {
    if (!this.writable) return;
    this.res.write(chunk);
    this.written += Buffer.byteLength(chunk);
    if (this.res.writableLength > MAX_UNREAD_BYTES) this.res.destroy();
  }

  private closed(): void {
    clearInterval(this.keepAlive);
    if (!this.opened) return;
    this.opened = false;
    this.onOpenChange?.(-1);
  }
}
