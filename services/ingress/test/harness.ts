/**
 * Test helpers: ingress configuration for tests, a minimal MCP-over-HTTP client built on fetch, and an
 * SSE reader, so that tests state what the agent sends and sees on the wire.
 */
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import { loadConfig, type IngressConfig } from '../src/config';

export const ACCEPT = 'application/json, text/event-stream';
export const LATEST = '2025-11-25';

/**
 * An ingress configuration for tests: loopback, any free port, quiet, bucket and stream bounds as in
 * production, the audit trail off unless a test turns it on (audit-trail.test.ts), authentication off
 * unless a test turns it on (edge-auth.test.ts).
 */
export function testConfig(natsUrl: string, extra: Record<string, string> = {}): IngressConfig {
  return loadConfig({
    NATS_URL: natsUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    MESHGATE_AUDIT: 'off',
    MESHGATE_AUTH: 'none',
    ...extra,
  });
}

export function request(id: number | string, method: string, params?: Record<string, unknown>) {
  return { jsonrpc: '2.0', id, method, ...(params ? { params } : {}) };
}

export function initializeRequest(version = LATEST, id: number | string = 0) {
  return request(id, 'initialize', {
    protocolVersion: version,
    capabilities: { sampling: {} },
    clientInfo: { name: 'ingress-test', version: '1.0.0' },
  });
}

export function toolCall(id: number | string, name: string, args: Record<string, unknown> = {}) {
  return request(id, 'tools/call', { name, arguments: args, _meta: { progressToken: `tok-${id}` } });
}

export interface Session {
  base: string;
  path: string;
  id: string;
  version: string;
}

/** POSTs one message the way an MCP client does. */
export function post(
  s: { base: string; path: string; id?: string; version?: string },
  body: unknown,
  init: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: ACCEPT,
    ...init.headers,
  };
  if (s.id) headers['mcp-session-id'] = s.id;
  if (s.id && s.version) headers['mcp-protocol-version'] = s.version;
  return fetch(`${s.base}${s.path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

/** Opens a session with `initialize` + `notifications/initialized`. */
export async function openSession(base: string, path = '/mcp', version = LATEST): Promise<Session> {
  const res = await post({ base, path }, initializeRequest(version));
  if (res.status !== 200) throw new Error(`initialize answered ${res.status}: ${await res.text()}`);
  const id = res.headers.get('mcp-session-id');
  if (!id) throw new Error('no Mcp-Session-Id');
  await res.json();
  const s = { base, path, id, version };
  const ack = await post(s, { jsonrpc: '2.0', method: 'notifications/initialized' });
  if (ack.status !== 202) throw new Error(`initialized answered ${ack.status}`);
  return s;
}

/** Opens a GET stream of the session, optionally resuming after `lastEventId`. */
export function openStream(s: Session, lastEventId?: string, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    'mcp-session-id': s.id,
    'mcp-protocol-version': s.version,
  };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  return fetch(`${s.base}${s.path}`, { headers, ...(signal ? { signal } : {}) });
}

/** Reads SSE events from a response, one at a time, each within a time limit. */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<EventSourceMessage>;
  retry: number | undefined;

  constructor(res: Response) {
    if (!res.body) throw new Error('no body');
    this.reader = res.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream({ onRetry: (ms) => (this.retry = ms) }))
      .getReader();
  }

  /** The next event; null when the stream ended. */
  async next(timeoutMs = 5000): Promise<EventSourceMessage | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no SSE event in time')), timeoutMs);
    });
    try {
      const { value, done } = await Promise.race([this.reader.read(), timeout]);
      return done ? null : value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every remaining event until the stream ends. */
  async rest(timeoutMs = 5000): Promise<EventSourceMessage[]> {
    const out: EventSourceMessage[] = [];
    for (let e = await this.next(timeoutMs); e; e = await this.next(timeoutMs)) out.push(e);
    return out;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }
}

/** The JSON-RPC message carried by an SSE event. */
export function data(e: EventSourceMessage | null): Record<string, unknown> {
  if (!e) throw new Error('stream ended');
  return JSON.parse(e.data) as Record<string, unknown>;
}
