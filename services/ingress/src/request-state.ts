/**
 * The `requestState` of an `input_required` answer (2026-07-28 multi round-trip requests): an opaque
 * token the agent echoes on its retry, which any ingress replica must trust no further than it can verify.
 * It is `mg1.<payload>.<mac>`: the payload (base64url JSON) names what the retry may resume and for whom;
 * the MAC is HMAC-SHA256 over `mg1.<payload>` with the key every replica shares. A `hold` state points at a
 * call held open by one replica (instance, hold id, round); a `relay` state wraps the state an upstream of
 * the same era issued, so every state an agent presents is the gateway's own. Both are bound to the
 * principal (tenant and id), the method, the target (tool or prompt name, resource URI), a digest of the
 * arguments, and an expiry. Pure: no I/O.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const PREFIX = 'mg1.';

const Token = z.string().min(1).max(256);

const Common = {
  /** Principal tenant and id. */
  t: Token,
  p: Token,
  /** Method, target (name or URI) and digest of the arguments of the request the state belongs to. */
  m: z.string().min(1).max(64),
  n: z.string().max(8192),
  d: z.string().max(64),
  /** Expiry, epoch ms. */
  e: z.number().int(),
};

/** A call held open by ingress replica `i` under hold id `h`, at round `r`. */
export const HeldState = z.object({
  k: z.literal('hold'),
  i: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  h: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  r: z.number().int().min(0),
  ...Common,
});
export type HeldState = z.infer<typeof HeldState>;

/** The state an upstream returned with its own `input_required`, to be handed back to it. */
/** An upstream's own `input_required`: `s` is its requestState, absent when the upstream sent none. */
export const RelayedState = z.object({
  k: z.literal('relay'),
  s: z.string().max(12_288).optional(),
  ...Common,
});
export type RelayedState = z.infer<typeof RelayedState>;

export const RequestState = z.discriminatedUnion('k', [HeldState, RelayedState]);
export type RequestState = z.infer<typeof RequestState>;

/** What a retry is: who sends it, and which request it repeats. */
export interface RetryOf {
  tenant: string;
  principal: string;
  method: string;
  target: string;
  digest: string;
}

/** A verified state, or why it was refused (one short phrase for the agent). */
export type StateCheck = { ok: true; state: RequestState } | { ok: false; reason: string };

function mac(key: Buffer, signed: string): Buffer {
  return createHmac('sha256', key).update(signed).digest();
}

/** Signs `state` into the token an agent receives. */
export function signRequestState(key: Buffer, state: RequestState): string {
  const signed = `${PREFIX}${Buffer.from(JSON.stringify(state)).toString('base64url')}`;
  return `${signed}.${mac(key, signed).toString('base64url')}`;
}

/**
 * Verifies a token an agent sent: the MAC first (nothing of an unauthenticated payload is read), then the
 * payload's shape, expiry, principal and request. Never throws.
 */
export function verifyRequestState(key: Buffer, token: string, retry: RetryOf, now = Date.now()): StateCheck {
  const dot = token.lastIndexOf('.');
  if (!token.startsWith(PREFIX) || dot <= PREFIX.length) return { ok: false, reason: 'malformed' };
  const signed = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(key, signed);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'not issued by this gateway or altered' };
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(signed.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = RequestState.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  const state = parsed.data;
  if (state.e <= now) return { ok: false, reason: 'expired' };
  if (state.t !== retry.tenant || state.p !== retry.principal)
    return { ok: false, reason: 'issued to another principal' };
  if (state.m !== retry.method || state.n !== retry.target || state.d !== retry.digest)
    return { ok: false, reason: 'issued for another request' };
  return { ok: true, state };
}

/** The target of a round-trip request: the tool or prompt name, or the resource URI. */
export function requestTarget(params: Record<string, unknown> | undefined): string {
  const target = params?.['name'] ?? params?.['uri'];
  return typeof target === 'string' ? target : '';
}

/**
 * SHA-256 (base64url) of the arguments of a request, keys sorted at every level, so that a retry with the
 * same arguments in another key order matches. Throws a RangeError on arguments nested too deeply to
 * serialise.
 */
export function argumentsDigest(params: Record<string, unknown> | undefined): string {
  const args = params?.['arguments'] ?? null;
  const canonical = JSON.stringify(args, (_key, value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
  return createHash('sha256').update(canonical).digest('base64url');
}
