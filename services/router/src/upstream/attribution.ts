/**
 * Which session (and call) a message from an upstream belongs to. Streamable HTTP says it exactly (the
 * message arrived on the response stream of one request). On stdio and legacy SSE the wire says nothing,
 * so a message is attributed only when every agent call in flight on the connection belongs to one session
 * (or the connection is owned by one session); guessing would hand one user's data to another (ADR 001).
 */
import type { CallOrigin } from './relay-table';

/** Whose an upstream message is. */
export type Attribution =
  /** The message belongs to this call: related messages go to its stream. */
  | { kind: 'call'; origin: CallOrigin }
  /** The message belongs to this session, but to no single call. */
  | { kind: 'session'; sessionId: string }
  /** No session is involved (no call in flight). */
  | { kind: 'none' }
  /** Calls of several sessions are in flight on a shared connection: nobody can tell whose it is. */
  | { kind: 'ambiguous'; sessionIds: string[] };

/**
 * Attributes one upstream message.
 * @param exact what the wire says: undefined when it says nothing, null when it names a request that belongs
 *   to no agent call, else the origin of the call it names.
 * @param owner the session owning the connection (stateful servers), if any.
 * @param inFlight the origins of the agent calls in flight on the connection, oldest first.
 */
export function attribute(
  exact: CallOrigin | null | undefined,
  owner: string | undefined,
  inFlight: readonly CallOrigin[],
): Attribution {
  if (exact) return { kind: 'call', origin: exact };
  if (exact === null) return owner ? { kind: 'session', sessionId: owner } : { kind: 'none' };
  if (inFlight.length === 1) return { kind: 'call', origin: inFlight[0]! };
  if (owner) return { kind: 'session', sessionId: owner };
  const sessions = [...new Set(inFlight.map((o) => o.sessionId))];
  if (sessions.length === 0) return { kind: 'none' };
  if (sessions.length === 1) return { kind: 'session', sessionId: sessions[0]! };
  return { kind: 'ambiguous', sessionIds: sessions };
}

/** The session an attribution names, if exactly one. */
export function attributedSession(a: Attribution): string | undefined {
  return a.kind === 'call' ? a.origin.sessionId : a.kind === 'session' ? a.sessionId : undefined;
}
