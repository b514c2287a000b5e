/**
 * JetStream publishes whose acknowledgements all come back on one subscription of the publisher's own
 * (`<inbox>.<n>`), matched by their number, with one timer sweeping those overdue. `js.publish` of nats.js
 * makes each publish a request with a timer and an Error (its stack captured) of its own; on the request
 * path's processes that cost more CPU than the rest of the trail.
 * Same outcomes: resolves on a stream's acknowledgement (a duplicate too: the stream has the message);
 * rejects when no stream takes the subject (503 no responders), the stream refuses it, the answer is not an
 * acknowledgement, or none comes within the timeout.
 */
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';

interface Waiting {
  resolve: () => void;
  reject: (err: Error) => void;
  deadline: number;
}

const decoder = new TextDecoder();

export class StreamAcks {
  private readonly prefix = createInbox();
  private readonly waiting = new Map<number, Waiting>();
  private readonly sub: Subscription;
  private readonly sweep: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => this.answer(err, msg) });
    this.sweep = setInterval(() => this.expire(Date.now()), Math.min(1_000, Math.max(25, timeoutMs / 4)));
    this.sweep.unref();
  }

  /** Publishes `data` on `subject` with `Nats-Msg-Id = msgId`; settles with the stream's answer. */
  publish(subject: string, data: string, msgId: string): Promise<void> {
    const token = ++this.next;
    const h = headers();
    h.set('Nats-Msg-Id', msgId);
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, headers: h });
      } catch (err) {
        this.waiting.delete(token);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Publishes awaiting their answer. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Stops listening; publishes still waiting are rejected. */
  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    for (const w of this.waiting.values()) w.reject(new Error('the audit publisher stopped'));
    this.waiting.clear();
  }

  private answer(err: Error | null, msg: Msg): void {
    if (err) return; // the subscription closed with the connection: the sweep rejects what waits
    const token = Number(msg.subject.slice(this.prefix.length + 1));
    const w = this.waiting.get(token);
    if (!w) return; // answered after its timeout: it was spooled, and the duplicate window keeps one copy
    this.waiting.delete(token);
    if (msg.headers?.hasError) {
      w.reject(new Error(`no stream took the message (${msg.headers.code} ${msg.headers.description})`));
      return;
    }
    let ack: { stream?: unknown; seq?: unknown; error?: { description?: unknown } };
    try {
      ack = JSON.parse(decoder.decode(msg.data)) as typeof ack;
    } catch {
      w.reject(new Error('the stream answered with something else than an acknowledgement'));
      return;
    }
    if (ack.error) w.reject(new Error(`the stream refused the message: ${String(ack.error.description)}`));
    else if (typeof ack.stream === 'string' && ack.stream !== '' && typeof ack.seq === 'number') w.resolve();
    else w.reject(new Error('the stream answered with something else than an acknowledgement'));
  }

  /** Rejects what waited past its deadline; deadlines grow with the token, so the scan stops early. */
  private expire(now: number): void {
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) return;
      this.waiting.delete(token);
      w.reject(new Error(`no acknowledgement within ${this.timeoutMs} ms`));
    }
  }
}
