/**
 * The answer to a JSON-RPC batch (spec 2025-03-26: every response of the batch, as one JSON array or as an
 * SSE stream that carries each of them, and the related messages, before it closes). The answer stays a
 * JSON array while no related message has come; the first one turns it into an SSE stream that starts with
 * the responses collected so far. Each request of the batch writes through its own `ExchangeSink`; an agent
 * that leaves before any SSE event abandons every call of the batch still running.
 */
import type { ServerResponse } from 'node:http';
import type { JsonRpcResponse, SessionRecord, ToAgent } from '@meshgate/contracts';
import type { ExchangeSink } from './call-exchange';
import type { IngressContext } from './context';
import { openPostStream } from './post-response-sink';
import type { SseStream } from './sse-stream';
import { writeJsonText } from './http-replies';

/** Collects the answers of one batch on a hijacked response; see the file header. */
export class BatchAnswer {
  private readonly texts: string[] = [];
  private readonly collected: JsonRpcResponse[] = [];
  private readonly abandons = new Set<() => void>();
  private sse: SseStream | null = null;
  private left: number;
  private gone = false;

  /** `expected`: the number of requests of the batch, each answered once through `add` or an entry sink. */
  constructor(
    private readonly ctx: IngressContext,
    private readonly res: ServerResponse,
    private readonly record: SessionRecord,
    expected: number,
  ) {
    this.left = expected;
    res.once('close', () => {
      if (this.sse || this.left === 0) return;
      this.gone = true;
      for (const abandon of [...this.abandons]) abandon();
    });
  }

  /** True once the agent left before anything reached it: requests not sent yet are not sent at all. */
  get agentGone(): boolean {
    return this.gone;
  }

  /** The sink of one request of the batch. */
  entry(): ExchangeSink {
    let abandon: (() => void) | undefined;
    return {
      related: (message) => this.related(message),
      answer: (response) => {
        if (abandon) this.abandons.delete(abandon);
        return this.add(response);
      },
      onAbandon: (a) => {
        abandon = a;
        this.abandons.add(a);
      },
    };
  }

  /** Adds the answer of one request (null: none, the agent left); returns its bytes. The last completes the batch. */
  add(response: JsonRpcResponse | null): number {
    if (this.left === 0) return 0;
    this.left--;
    let bytes = 0;
    try {
      if (response && this.sse) {
        const before = this.sse.bytesWritten;
        this.sse.send(response, this.left === 0);
        bytes = this.sse.bytesWritten - before;
      } else if (response) {
        const text = JSON.stringify(response);
        this.texts.push(text);
        this.collected.push(response);
        bytes = Buffer.byteLength(text);
      }
      if (this.left === 0) this.complete();
    } catch (err) {
      this.failed(err);
    }
    return bytes;
  }

  private related(message: ToAgent['message']): void {
    if (this.left === 0) return;
    try {
      if (!this.sse) {
        this.sse = openPostStream(this.ctx, this.res, this.record);
        for (const response of this.collected) this.sse.send(response);
      }
      this.sse.send(message);
    } catch (err) {
      this.failed(err);
    }
  }

  private complete(): void {
    if (this.sse) this.sse.end();
    else
      writeJsonText(this.res, 200, `[${this.texts.join(',')}]`, {
        'mcp-session-id': this.record.session.id,
      });
  }

  /** An answer that cannot be written must not leave the agent waiting on an open connection. */
  private failed(err: unknown): void {
    this.ctx.logger.error({ err }, 'could not write the answer of a batch');
    this.res.destroy();
  }
}
