/**
 * Requests whose effect outlives the call, so the gateway keeps them per connection: resource
 * subscriptions (the upstream is asked by the first subscriber and released by the last) and the log
 * level; both are re-sent when the connection is re-initialised.
 */
import type { UpstreamConnection } from './connection';
import type { CallOrigin, Outcome } from './relay-table';

type Params = Record<string, unknown>;

/** Subscribes the call's session to `params.uri`. */
export async function subscribe(
  conn: UpstreamConnection,
  params: Params,
  origin: CallOrigin,
  timeoutMs: number,
): Promise<Outcome> {
  const uri = params['uri'];
  if (typeof uri !== 'string') return conn.request('resources/subscribe', params, origin, timeoutMs);
  if (conn.subscriptions.isSubscribed(uri)) {
    conn.subscriptions.add(uri, origin.sessionId);
    return { result: {} };
  }
  const out = await conn.request('resources/subscribe', params, origin, timeoutMs);
  if ('result' in out) conn.subscriptions.add(uri, origin.sessionId);
  return out;
}

/** Unsubscribes the call's session; the upstream is told only when nobody else holds the URI. */
export async function unsubscribe(
  conn: UpstreamConnection,
  params: Params,
  origin: CallOrigin,
  timeoutMs: number,
): Promise<Outcome> {
  const uri = params['uri'];
  if (typeof uri === 'string' && !conn.subscriptions.remove(uri, origin.sessionId)) return { result: {} };
  return conn.request('resources/unsubscribe', params, origin, timeoutMs);
}

/** Sets the upstream's log level and keeps it on the connection. */
export async function setLevel(
  conn: UpstreamConnection,
  params: Params,
  origin: CallOrigin | undefined,
  timeoutMs: number,
): Promise<Outcome> {
  const out = await conn.request('logging/setLevel', params, origin, timeoutMs);
  if ('result' in out && typeof params['level'] === 'string') conn.logLevel = params['level'];
  return out;
}
