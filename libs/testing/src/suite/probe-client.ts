/**
 * The probe: an SDK `Client` that asks for a chosen protocol era, plays every client role the fixture
 * server uses (sampling, form and URL elicitation, roots) and records every notification it gets, with
 * bounded waits. Over Streamable HTTP it also records each HTTP exchange, so tests can see content types
 * and Last-Event-ID resumption. It works the same against the fixture and against a gateway endpoint.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  ProgressNotificationSchema,
  type ElicitRequestParams,
  type Notification,
} from '@modelcontextprotocol/sdk/types.js';
import { LATEST_ERA, PROBE_CAPABILITIES, pinProtocolVersion, type Era } from './protocol-era';
import { waitUntil } from './probe-results';

/** The clientInfo the probe introduces itself with. */
export const PROBE_CLIENT_INFO = { name: 'fixture-probe', version: '1.0.0' };
/** The roots the probe reports. */
export const PROBE_ROOTS = [{ uri: 'file:///tmp/meshgate-probe-root', name: 'probe-root' }];
/** What the probe fills into a form elicitation. */
export const PROBE_FORM_ANSWER = { color: 'blue', size: 'l', count: 2, notify: false };

/** One HTTP exchange seen by the probe's fetch. */
export interface Exchange {
  method: string;
  status: number;
  contentType: string | null;
  lastEventId: string | null;
}

/** A connected probe and what it has recorded so far. */
export interface Probe {
  client: Client;
  /** The era the probe asked for in initialize. */
  era: Era;
  /** The protocol version the server answered (always `era`: connecting fails otherwise). */
  protocolVersion: string;
  /**
   * Every notification received, progress included: the SDK's own `onprogress` drops a progress notification
   * that arrives in the same chunk as its response, so tests send their own progressToken and look here.
   */
  notifications: Notification[];
  /** The params of every elicitation/create the probe answered. */
  elicitations: ElicitRequestParams[];
  /** HTTP exchanges (Streamable HTTP probes only). */
  exchanges: Exchange[];
  /** Resolves with the first recorded notification matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (n: Notification) => boolean, timeoutMs?: number): Promise<Notification>;
  /** How many notifications of `method` were recorded. */
  count(method: string): number;
  /** The progress notifications received for `token`, without the token. */
  progressFor(token: string): Record<string, unknown>[];
  close(): Promise<void>;
}

/** Options of {@link connectProbe}. */
export interface ProbeOptions {
  /** The protocol version to ask for in initialize (default the latest, 2025-11-25). */
  era?: Era | undefined;
  /** Where the transport records HTTP exchanges, if it does. */
  exchanges?: Exchange[];
}

function createProbeClient(era: Era): { client: Client; elicitations: ElicitRequestParams[] } {
  const client = new Client(PROBE_CLIENT_INFO, { capabilities: PROBE_CAPABILITIES[era] });
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    const last = request.params.messages.at(-1)?.content;
    const text = last && !Array.isArray(last) && last.type === 'text' ? last.text : '';
    return {
      role: 'assistant',
      model: 'probe-model',
      stopReason: 'endTurn',
      content: { type: 'text', text: `sampled: ${text}` },
    };
  });
  const elicitations: ElicitRequestParams[] = [];
  client.setRequestHandler(ElicitRequestSchema, (request) => {
    elicitations.push(request.params);
    return request.params.mode === 'url'
      ? { action: 'accept' }
      : { action: 'accept', content: PROBE_FORM_ANSWER };
  });
  client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: PROBE_ROOTS }));
  return { client, elicitations };
}

/**
 * Connects a probe over `transport`, asking for `opts.era`; rejects (and closes) when the server answers
 * initialize with another protocol version.
 */
export async function connectProbe(transport: Transport, opts: ProbeOptions = {}): Promise<Probe> {
  const era = opts.era ?? LATEST_ERA;
  const answered = pinProtocolVersion(transport, era);
  const { client, elicitations } = createProbeClient(era);
  const notifications: Notification[] = [];
  client.fallbackNotificationHandler = async (notification) => {
    notifications.push(notification);
  };
  client.setNotificationHandler(ProgressNotificationSchema, (notification) => {
    notifications.push(notification);
  });
  await client.connect(transport);
  const protocolVersion = answered();
  if (protocolVersion !== era) {
    await client.close();
    throw new Error(`asked for protocol ${era} in initialize, the server answered ${protocolVersion}`);
  }
  return {
    client,
    era,
    protocolVersion,
    notifications,
    elicitations,
    exchanges: opts.exchanges ?? [],
    async waitFor(predicate, timeoutMs = 5000) {
      await waitUntil(() => notifications.some(predicate), timeoutMs, 'a notification');
      return notifications.find(predicate) as Notification;
    },
    count: (method) => notifications.filter((n) => n.method === method).length,
    progressFor: (token) =>
      notifications
        .filter((n) => n.method === 'notifications/progress' && n.params?.['progressToken'] === token)
        .map((n) =>
          Object.fromEntries(Object.entries(n.params ?? {}).filter(([key]) => key !== 'progressToken')),
        ),
    close: () => client.close(),
  };
}

/**
 * Connects a probe over Streamable HTTP to `url` and waits until its standalone GET stream is open, so
 * that notifications unrelated to any request reach it.
 */
export async function connectHttpProbe(url: string, opts: { era?: Era | undefined } = {}): Promise<Probe> {
  const exchanges: Exchange[] = [];
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    const headers = new Headers(init?.headers);
    exchanges.push({
      method: init?.method ?? 'GET',
      status: response.status,
      contentType: response.headers.get('content-type'),
      lastEventId: headers.get('last-event-id'),
    });
    return response;
  };
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: recordingFetch });
  const probe = await connectProbe(transport, { ...opts, exchanges });
  await waitUntil(
    () => exchanges.some((e) => e.method === 'GET' && e.status === 200),
    5000,
    'the GET stream',
  );
  return {
    ...probe,
    // End the session with DELETE, as a well-behaved client does, so that servers (and gateways sharing
    // one upstream among sessions) forget it instead of keeping its state until it expires.
    async close() {
      await transport.terminateSession().catch(() => undefined);
      await probe.close();
    },
  };
}
