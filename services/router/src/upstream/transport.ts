/**
 * The one interface every upstream transport implements (stdio, Streamable HTTP, legacy HTTP+SSE), so the
 * JSON-RPC relay above it does not care how bytes travel. A transport delivers every parsed message it
 * receives, with the id of the request whose response stream carried it when the wire says so.
 */
import type { Logger } from '@meshgate/config';
import type { JsonRpcId, JsonRpcMessage, ServerDefinition } from '@meshgate/contracts';
import type { UpstreamCaller } from './upstream-caller';

/** What a transport reports to the connection that owns it. */
export interface TransportEvents {
  /**
   * A message from the upstream. `relatedTo` is the (connection-side) id of the request on whose response
   * stream it arrived: only Streamable HTTP knows this; stdio and legacy SSE never set it.
   */
  message(message: unknown, relatedTo?: JsonRpcId): void;
  /** The transport is gone (process exited, stream ended, session expired); the connection re-initialises. */
  closed(reason: string): void;
}

/** One way of moving JSON-RPC messages to and from an upstream. */
export interface UpstreamTransport {
  /** Opens the transport (spawns the process, opens the event stream); rejects when that fails. */
  start(): Promise<void>;
  /**
   * Sends one message. For a request on Streamable HTTP the promise settles when the response stream is
   * done; a rejection means the upstream never answered that request.
   */
  send(message: JsonRpcMessage, signal?: AbortSignal): Promise<void>;
  /** Tells the transport the negotiated protocol version, once initialize succeeded. */
  initialized(protocolVersion: string): void;
  /** Closes the transport and releases everything it holds; safe to call more than once. */
  close(): Promise<void>;
}

/** Thrown by `send` when a Streamable HTTP upstream forgot the session (404): the request never ran. */
export class SessionExpiredError extends Error {
  constructor() {
    super('upstream session expired');
    this.name = 'SessionExpiredError';
  }
}

/** Builds the transport of one definition; `caller` is who a per-session connection acts for. */
export type TransportFactory = (
  def: ServerDefinition,
  events: TransportEvents,
  log: Logger,
  caller?: UpstreamCaller,
) => UpstreamTransport;

/** Parses one line or body as JSON, or returns undefined (the caller logs what it drops). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
