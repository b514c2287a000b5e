/**
 * Change notifications from a modern (2026-07-28) upstream: it has no GET stream and no
 * resources/subscribe, only `subscriptions/listen`, a long-lived request whose stream carries the list
 * changes and resource updates its filter names. One listen per connection carries the list changes the
 * upstream offers and the URIs the connection's sessions subscribed to (the subscription book); a change
 * of URIs opens a new listen, which takes over once the upstream acknowledged it (the old one is then
 * cancelled: an HTTP stream by closing it, a stdio one with notifications/cancelled), so no change is
 * lost in between and none is delivered twice (a notification of any other listen is dropped). An HTTP
 * listen that ends is opened again after a growing delay while the connection is up.
 */
import type { Logger } from '@meshgate/config';
import { ErrorCodes, type JsonRpcErrorObject, type JsonRpcMessage } from '@meshgate/contracts';
import { ModernWire } from '@meshgate/mcp';
import type { Outcome } from './relay-table';

type Json = Record<string, unknown>;

/** What a listen stream works with. */
export interface ListenDeps {
  /** Sends a message on the connection's transport; over HTTP it settles when the listen's stream ends. */
  send(message: JsonRpcMessage, signal: AbortSignal): Promise<void>;
  /** `params` with the gateway's request envelope. */
  envelope(params: Json): Json;
  /** True when the transport is a child's stdio (one channel; a listen is ended by notification). */
  stdio: boolean;
  log: Logger;
}

interface Listen {
  id: string;
  abort: AbortController;
  uris: string[];
}

interface Waiter {
  /** The subscription state that satisfies it: `uri` acknowledged (subscribe) or gone (unsubscribe). */
  uri: string;
  subscribed: boolean;
  settle(outcome: Outcome): void;
}

const FirstRetryMs = 1000;
const MaxRetryMs = 30_000;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The subscriptions/listen stream of one modern connection. */
export class ListenStream {
  private n = 0;
  /** The acknowledged listen whose notifications are delivered. */
  private active: Listen | undefined;
  /** The newest listen sent, until it is acknowledged. */
  private pending: Listen | undefined;
  private uris = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private retryMs = FirstRetryMs;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** @param capabilities the upstream's server capabilities (what it can notify of). */
  constructor(
    private readonly deps: ListenDeps,
    private readonly capabilities: Json,
  ) {}

  /** Starts listening, to the list changes offered and to `uris`. */
  start(uris: readonly string[]): void {
    this.uris = new Set(uris);
    if (this.hasFilter()) this.open();
  }

  /** Adds `uri` to the listen; resolves once the upstream acknowledged it, or with why not. */
  subscribe(uri: string, timeoutMs: number): Promise<Outcome> {
    if (!isObject(this.capabilities['resources']) || this.capabilities['resources']['subscribe'] !== true)
      return Promise.resolve({
        error: { code: ErrorCodes.MethodNotFound, message: 'the upstream offers no resource subscriptions' },
      });
    this.uris.add(uri);
    return this.change(uri, true, timeoutMs);
  }

  /** Removes `uri` from the listen; resolves once the upstream acknowledged the listen without it. */
  unsubscribe(uri: string, timeoutMs: number): Promise<Outcome> {
    if (!this.uris.delete(uri)) return Promise.resolve({ result: {} });
    return this.change(uri, false, timeoutMs);
  }

  /**
   * Offers an upstream message to the stream; true when it was the stream's own (an acknowledgement, the
   * answer to a listen, a notification of a replaced listen) and must go no further. A notification of the
   * active listen loses its subscription id and goes on.
   */
  consume(message: Json): boolean {
    const method = message['method'];
    if (typeof method !== 'string') return this.answered(message);
    const params = isObject(message['params']) ? message['params'] : undefined;
    const meta = isObject(params?.['_meta']) ? params['_meta'] : undefined;
    const id = meta?.[ModernWire.subscriptionIdKey];
    if (method === 'notifications/subscriptions/acknowledged') {
      if (id === this.pending?.id) this.acknowledged(params);
      return true;
    }
    if (id === undefined) return false;
    if (id !== this.active?.id) return true;
    const { [ModernWire.subscriptionIdKey]: _id, ...rest } = meta ?? {};
    const { _meta: _m, ...bare } = params ?? {};
    message['params'] = Object.keys(rest).length > 0 ? { ...bare, _meta: rest } : bare;
    return false;
  }

  /** Ends every listen (the connection went down or stops); pending subscriptions fail with `reason`. */
  stop(reason: string): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const listen of [this.active, this.pending]) listen?.abort.abort();
    this.active = this.pending = undefined;
    this.fail({ code: ErrorCodes.UpstreamUnavailable, message: reason });
  }

  private hasFilter(): boolean {
    return Object.keys(this.filter()).length > 0;
  }

  /** The filter the upstream can honour: the list changes it offers and the subscribed URIs. */
  private filter(): Json {
    const offers = (kind: string, field: string) =>
      isObject(this.capabilities[kind]) && this.capabilities[kind][field] === true;
    const filter: Json = {};
    if (offers('tools', 'listChanged')) filter['toolsListChanged'] = true;
    if (offers('prompts', 'listChanged')) filter['promptsListChanged'] = true;
    if (offers('resources', 'listChanged')) filter['resourcesListChanged'] = true;
    if (offers('resources', 'subscribe') && this.uris.size > 0)
      filter['resourceSubscriptions'] = [...this.uris];
    return filter;
  }

  private change(uri: string, subscribed: boolean, timeoutMs: number): Promise<Outcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve({
          error: {
            code: ErrorCodes.RequestTimeout,
            message: 'the upstream did not acknowledge the subscription in time',
          },
        });
      }, timeoutMs);
      const waiter: Waiter = {
        uri,
        subscribed,
        settle: (outcome) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(outcome);
        },
      };
      this.waiters.add(waiter);
      this.open();
    });
  }

  private open(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.pending?.abort.abort();
    if (this.pending && this.deps.stdio) this.cancel(this.pending);
    const listen: Listen = {
      id: `mg-listen-${++this.n}`,
      abort: new AbortController(),
      uris: [...this.uris],
    };
    this.pending = listen;
    const message = {
      jsonrpc: '2.0' as const,
      id: listen.id,
      method: 'subscriptions/listen',
      params: this.deps.envelope({ notifications: this.filter() }),
    };
    this.deps.send(message, listen.abort.signal).then(
      () => this.ended(listen, 'the listen stream ended'),
      (err: unknown) => this.ended(listen, err instanceof Error ? err.message : String(err)),
    );
  }

  private acknowledged(params: Json | undefined): void {
    const listen = this.pending;
    if (!listen) return;
    this.pending = undefined;
    const previous = this.active;
    this.active = listen;
    this.retryMs = FirstRetryMs;
    if (previous) this.cancel(previous);
    const filter = isObject(params?.['notifications']) ? params['notifications'] : {};
    const granted = Array.isArray(filter['resourceSubscriptions'])
      ? (filter['resourceSubscriptions'] as unknown[])
      : [];
    for (const w of [...this.waiters]) {
      if (w.subscribed !== listen.uris.includes(w.uri)) continue;
      w.settle(
        !w.subscribed || granted.includes(w.uri)
          ? { result: {} }
          : {
              error: {
                code: ErrorCodes.InvalidParams,
                message: `the upstream refused a subscription to ${w.uri}`,
              },
            },
      );
    }
  }

  /** A response: to the pending listen (refused), or the active one ending gracefully. */
  private answered(message: Json): boolean {
    const id = message['id'];
    if (typeof id !== 'string' || !id.startsWith('mg-listen-')) return false;
    const error = isObject(message['error']) ? (message['error'] as JsonRpcErrorObject) : undefined;
    if (id === this.pending?.id && error) {
      this.pending = undefined;
      this.fail({ code: error.code, message: `subscriptions/listen refused: ${error.message}` });
    } else if (id === this.active?.id && this.deps.stdio) {
      this.active = undefined;
      this.retry('the upstream ended the listen');
    }
    return true;
  }

  /** An HTTP listen's stream ended: opened again later when it was still the one in use. */
  private ended(listen: Listen, reason: string): void {
    if (this.deps.stdio || this.stopped || listen.abort.signal.aborted) return;
    if (listen === this.active) this.active = undefined;
    else if (listen === this.pending) this.pending = undefined;
    else return;
    this.retry(reason);
  }

  private retry(reason: string): void {
    if (this.stopped || this.pending) return;
    this.deps.log.debug({ reason, retryInMs: this.retryMs }, 'upstream listen stream ended');
    this.retryTimer = setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(MaxRetryMs, this.retryMs * 2);
  }

  private cancel(listen: Listen): void {
    listen.abort.abort();
    if (!this.deps.stdio) return;
    const params = this.deps.envelope({ requestId: listen.id, reason: 'replaced' });
    this.deps
      .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params }, new AbortController().signal)
      .catch((err: unknown) => this.deps.log.debug({ err: String(err) }, 'listen cancellation not sent'));
  }

  private fail(error: JsonRpcErrorObject): void {
    for (const w of [...this.waiters]) w.settle({ error });
  }
}
