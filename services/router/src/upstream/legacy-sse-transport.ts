/**
 * Legacy HTTP+SSE upstreams (MCP 2024-11-05): one long GET event stream whose first `endpoint` event names
 * the URL to POST messages to; every message from the server arrives on that stream. The endpoint must be
 * on the same origin as the configured URL (an upstream cannot redirect the gateway's POSTs elsewhere).
 * Both carry the definition's credentials (upstream-credentials), resolved when the transport starts.
 */
import type { Logger } from '@meshgate/config';
import type { HttpServer, JsonRpcMessage } from '@meshgate/contracts';
import type { EventSourceMessage } from 'eventsource-parser';
import { readEventStream } from './sse-reader';
import { discard, eventMessages, isEventStream } from './http-common';
import type { TransportEvents, UpstreamTransport } from './transport';
import { httpRequest } from './http-request';
import type { UpstreamCaller } from './upstream-caller';
import { connectCredentials, sendWithCredentials, type UpstreamCredentials } from './upstream-credentials';

/** The transport of `sse` definitions. */
export class LegacySseTransport implements UpstreamTransport {
  private endpoint: URL | undefined;
  private readonly abort = new AbortController();
  private announced: ((endpoint: URL) => void) | undefined;
  private failedToStart: ((err: Error) => void) | undefined;
  private reported = false;
  private credentials: UpstreamCredentials | undefined;

  constructor(
    private readonly def: HttpServer,
    private readonly events: TransportEvents,
    private readonly log: Logger,
    private readonly caller?: UpstreamCaller,
  ) {}

  async start(): Promise<void> {
    const credentials = await connectCredentials(this.def, { caller: this.caller });
    this.credentials = credentials;
    const res = await sendWithCredentials(credentials, (headers) =>
      httpRequest(this.def.url, {
        method: 'GET',
        headers: { ...headers, accept: 'text/event-stream' },
        signals: [this.abort.signal],
      }),
    );
    if (!res.ok || !isEventStream(res)) {
      discard(res);
      throw new Error(`event stream answered HTTP ${res.status}`);
    }
    const endpoint = new Promise<URL>((resolve, reject) => {
      this.announced = resolve;
      this.failedToStart = reject;
    });
    readEventStream(res.body, (event) => this.onEvent(event), this.abort.signal).then(
      () => this.end('event stream ended'),
      (err: unknown) => this.end(`event stream failed: ${err instanceof Error ? err.message : String(err)}`),
    );
    this.endpoint = await endpoint;
  }

  async send(message: JsonRpcMessage, signal?: AbortSignal): Promise<void> {
    const endpoint = this.endpoint;
    if (!endpoint || !this.credentials) throw new Error('no endpoint announced');
    const body = JSON.stringify(message);
    const res = await sendWithCredentials(this.credentials, (headers) =>
      httpRequest(endpoint, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
        signals: [this.abort.signal, signal],
      }),
    );
    discard(res);
    if (!res.ok) throw new Error(`POST answered HTTP ${res.status}`);
  }

  initialized(): void {}

  async close(): Promise<void> {
    this.reported = true;
    this.abort.abort();
  }

  private onEvent(event: EventSourceMessage): void {
    if (event.event === 'endpoint') {
      const url = URL.canParse(event.data.trim(), this.def.url)
        ? new URL(event.data.trim(), this.def.url)
        : undefined;
      if (url && url.origin === new URL(this.def.url).origin) this.announced?.(url);
      else this.failedToStart?.(new Error('the endpoint event names another origin or no URL'));
      return;
    }
    const messages = eventMessages(event);
    if (messages === null)
      this.log.warn({ data: event.data.slice(0, 200) }, 'upstream sent an event that is not JSON');
    else for (const m of messages) this.events.message(m);
  }

  private end(reason: string): void {
    this.failedToStart?.(new Error(reason));
    if (this.reported) return;
    this.reported = true;
    this.events.closed(reason);
  }
}
