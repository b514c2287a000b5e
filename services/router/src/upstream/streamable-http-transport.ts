/**
 * A lean Streamable HTTP client (MCP 2025-03-26 and later) on keep-alive node:http. Every message is a POST;
 * a request's answer comes as JSON or as an SSE stream, and every message on that stream is reported as
 * related to that request, which is how server-to-client requests are attributed exactly. A stream that
 * ends early is resumed with GET + Last-Event-ID. The GET stream carries unsolicited messages; DELETE ends
 * the upstream session on close; a 404 for a known session means it expired and the connection re-initialises.
 * Every request carries the definition's credentials (upstream-credentials), resolved when the transport
 * starts; an OAuth token the upstream answers 401 to is renewed once and the request sent once more.
 * Towards a 2026-07-28 upstream (no initialize, so no session and no GET stream) every request carries the
 * headers its `_meta` envelope implies (MCP-Protocol-Version, Mcp-Method, Mcp-Name).
 */
import type { Logger } from '@meshgate/config';
import type { HttpServer, JsonRpcId, JsonRpcMessage, JsonRpcRequest } from '@meshgate/contracts';
import { modernRequestHeaders } from '@meshgate/mcp';
import type { EventSourceMessage } from 'eventsource-parser';
import { readEventStream, type StreamEnd } from './sse-reader';
import { discard, errorInBody, eventMessages, isEventStream, sleep } from './http-common';
import type { UpstreamCaller } from './upstream-caller';
import { connectCredentials, sendWithCredentials, type UpstreamCredentials } from './upstream-credentials';
import { httpRequest, type HttpAnswer } from './http-request';
import { parseJson, SessionExpiredError, type TransportEvents, type UpstreamTransport } from './transport';

const MaxResumes = 5;
const MaxGetBackoffMs = 30_000;

/** The transport of `streamable-http` definitions. */
export class StreamableHttpTransport implements UpstreamTransport {
  private sessionId: string | undefined;
  private protocolVersion: string | undefined;
  private readonly abort = new AbortController();
  private expired = false;
  private credentials: UpstreamCredentials | undefined;

  constructor(
    private readonly def: HttpServer,
    private readonly events: TransportEvents,
    private readonly log: Logger,
    private readonly caller?: UpstreamCaller,
  ) {}

  async start(): Promise<void> {
    this.credentials = await connectCredentials(this.def, { caller: this.caller });
  }

  async send(message: JsonRpcMessage, signal?: AbortSignal): Promise<void> {
    const payload = JSON.stringify(message);
    const own = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...modernRequestHeaders(message),
    };
    const res = await this.authorized((headers) =>
      httpRequest(this.def.url, {
        method: 'POST',
        headers: this.headers(headers, own),
        body: payload,
        signals: [this.abort.signal, signal],
      }),
    );
    if (res.status === 404 && this.sessionId !== undefined) {
      discard(res);
      this.expire();
      throw new SessionExpiredError();
    }
    const request = 'method' in message && 'id' in message ? (message as JsonRpcRequest) : undefined;
    const id = request?.id;
    if (request === undefined || id === undefined) {
      discard(res);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return;
    }
    if (request.method === 'initialize') this.sessionId = res.header('mcp-session-id');
    if (!res.ok) return this.failed(res, id);
    if (isEventStream(res)) return this.readAnswer(res.body, id, signal);
    const body = parseJson(await res.text());
    const answered = body !== undefined && this.deliverAll(Array.isArray(body) ? body : [body], id);
    if (!answered) throw new Error(`HTTP ${res.status} without a JSON-RPC response`);
  }

  initialized(protocolVersion: string): void {
    this.protocolVersion = protocolVersion;
    void this.listen();
  }

  async close(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    if (this.sessionId === undefined || this.expired) return;
    await this.authorized((headers) =>
      httpRequest(this.def.url, { method: 'DELETE', headers: this.headers(headers, {}), timeoutMs: 2000 }),
    )
      .then(discard)
      .catch((err: unknown) => this.log.debug({ err: String(err) }, 'upstream DELETE failed'));
  }

  /** Sends with the credentials of the current connection (resolved by `start`). */
  private authorized(
    send: (credentials: Record<string, string>) => Promise<HttpAnswer>,
  ): Promise<HttpAnswer> {
    if (!this.credentials) return Promise.reject(new Error('transport not started'));
    return sendWithCredentials(this.credentials, send);
  }

  private headers(credentials: Record<string, string>, own: Record<string, string>): Record<string, string> {
    return {
      ...credentials,
      ...own,
      ...(this.sessionId !== undefined ? { 'mcp-session-id': this.sessionId } : {}),
      ...(this.protocolVersion !== undefined ? { 'mcp-protocol-version': this.protocolVersion } : {}),
    };
  }

  /** An HTTP error answer: a JSON-RPC error body becomes the request's error, anything else a failure. */
  private async failed(res: HttpAnswer, id: JsonRpcId): Promise<void> {
    const error = errorInBody(await res.text());
    if (!error) throw new Error(`HTTP ${res.status}`);
    this.events.message({ jsonrpc: '2.0', id, error }, id);
  }

  /** Reads the SSE answer of request `id`, resuming it by GET while it ended before the response. */
  private async readAnswer(body: HttpAnswer['body'], id: JsonRpcId, callSignal?: AbortSignal): Promise<void> {
    let answered = false;
    const onEvent = (event: EventSourceMessage) => {
      if (this.deliverEvent(event, id)) answered = true;
    };
    // The request's own abort listeners end this body; resuming (rare) needs one signal for both.
    let end: StreamEnd = await readEventStream(body, onEvent);
    if (answered) return;
    const signal = callSignal ? AbortSignal.any([this.abort.signal, callSignal]) : this.abort.signal;
    for (let attempt = 0; !answered && end.lastEventId !== undefined && attempt < MaxResumes; attempt++) {
      if (!(await sleep(end.retryMs ?? 1000, signal))) break;
      const res = await this.get(end.lastEventId, signal);
      if (!res.ok || !isEventStream(res)) {
        discard(res);
        break;
      }
      const next = await readEventStream(res.body, onEvent, signal);
      end = { lastEventId: next.lastEventId ?? end.lastEventId, retryMs: next.retryMs ?? end.retryMs };
    }
    if (!answered) throw new Error('the response stream ended before the response');
  }

  /** The GET stream of unsolicited messages, reopened after it ends until the transport closes. */
  private async listen(): Promise<void> {
    const signal = this.abort.signal;
    let lastEventId: string | undefined;
    let retryMs: number | undefined;
    for (let failures = 0; !signal.aborted && !this.expired;) {
      try {
        const res = await this.get(lastEventId, signal);
        if (res.status === 405 || res.status === 404) {
          discard(res);
          if (res.status === 404) this.expire();
          return;
        }
        if (!res.ok || !isEventStream(res)) {
          discard(res);
          throw new Error(`HTTP ${res.status}`);
        }
        failures = 0;
        const end = await readEventStream(res.body, (event) => this.deliverEvent(event, undefined), signal);
        lastEventId = end.lastEventId ?? lastEventId;
        retryMs = end.retryMs ?? retryMs;
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        this.log.debug({ err: String(err) }, 'upstream GET stream failed');
      }
      await sleep(Math.min(MaxGetBackoffMs, (retryMs ?? 1000) * 2 ** failures), signal);
    }
  }

  private get(lastEventId: string | undefined, signal: AbortSignal): Promise<HttpAnswer> {
    const own: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== undefined) own['last-event-id'] = lastEventId;
    return this.authorized((headers) =>
      httpRequest(this.def.url, { method: 'GET', headers: this.headers(headers, own), signals: [signal] }),
    );
  }

  /** Delivers the messages of one event; true when one of them is the response to `related`. */
  private deliverEvent(event: EventSourceMessage, related: JsonRpcId | undefined): boolean {
    const messages = eventMessages(event);
    if (messages === null) {
      this.log.warn({ data: event.data.slice(0, 200) }, 'upstream sent an event that is not JSON');
      return false;
    }
    return this.deliverAll(messages, related);
  }

  private deliverAll(messages: unknown[], related: JsonRpcId | undefined): boolean {
    let answered = false;
    for (const m of messages) {
      if (related !== undefined && isResponseTo(m, related)) answered = true;
      this.events.message(m, related);
    }
    return answered;
  }

  private expire(): void {
    if (this.expired) return;
    this.expired = true;
    this.events.closed('upstream session expired');
  }
}

function isResponseTo(message: unknown, id: JsonRpcId): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  return m['id'] === id && ('result' in m || 'error' in m);
}
