/**
 * The one place a NATS subject is spelled. Every subject is built from validated tokens, verb early:
 * `mg.v1.<service>.<verb>...`. Tokens holding `.`, `*`, `>`, whitespace or a leading `$` are rejected
 * so that a hostile session id or server name can never widen a subscription or cross a namespace.
 */

const TOKEN = /^[A-Za-z0-9_-][A-Za-z0-9_-]*$/;

/** Thrown when a subject token is not safe to put on the wire. */
export class InvalidSubjectToken extends Error {
  constructor(readonly token: string) {
    super(`invalid subject token: ${JSON.stringify(token.slice(0, 64))}`);
    this.name = 'InvalidSubjectToken';
  }
}

/** True when `token` can stand as one subject token. */
export function isSubjectToken(token: string): boolean {
  return token.length > 0 && token.length <= 128 && TOKEN.test(token);
}

function tok(token: string): string {
  if (!isSubjectToken(token)) throw new InvalidSubjectToken(token);
  return token;
}

/** Builds `mg.v1.<tokens...>` after validating every token. */
export function subject(...tokens: string[]): string {
  return ['mg', 'v1', ...tokens.map(tok)].join('.');
}

/** Queue groups: replicas of one service share work in one group. */
export const QueueGroups = {
  router: 'router',
  registry: 'registry',
  policy: 'policy',
} as const;

/** Every subject of the platform. */
export const Subjects = {
  /** Any router replica: calls of a session not yet pinned, and failover. */
  routerCall: subject('router', 'call'),
  /** One router replica: calls of a session pinned to it (stateful upstreams, server-to-client traffic). */
  routerInstanceCall: (instance: string) => subject('router', tok(instance), 'call'),
  /** One router replica: the agent's answers to server-to-client requests that replica issued. */
  routerToUpstream: (instance: string) => subject('router', tok(instance), 'to-upstream'),
  /** Every router replica: agent notifications of a session (cancelled, roots/list_changed, session end). */
  sessionToUpstream: (sessionId: string) => subject('session', tok(sessionId), 'to-upstream'),
  sessionToUpstreamAll: 'mg.v1.session.*.to-upstream',
  /** Every router replica: the session was deleted by the agent or expired; release its upstream state. */
  sessionEnded: (sessionId: string) => subject('session', tok(sessionId), 'ended'),
  sessionEndedAll: 'mg.v1.session.*.ended',
  /** Messages for an agent that belong to no request (list_changed, resources/updated, logs): the GET stream. */
  sessionToAgent: (sessionId: string) => subject('session', tok(sessionId), 'to-agent'),
  /**
   * The ingress replica holding a legacy HTTP+SSE stream (spec 2024-11-05): may a POST use it
   * (LegacyAttach -> LegacyAttachReply). Lives only as long as that stream.
   */
  sessionLegacyAttach: (sessionId: string) => subject('session', tok(sessionId), 'legacy-attach'),
  /** Every message for a legacy HTTP+SSE agent from the replica that took its POST, responses included. */
  sessionToLegacyAgent: (sessionId: string) => subject('session', tok(sessionId), 'to-legacy-agent'),
  /** Messages that belong to one in-flight request, for the ingress replica holding that POST stream. */
  ingressStream: (instance: string, stream: string) =>
    subject('ingress', tok(instance), 'stream', tok(stream)),
  ingressStreamAll: (instance: string) => `${subject('ingress', tok(instance), 'stream')}.*`,
  /** One ingress replica: resume (or cancel) a call it holds for a 2026-07-28 agent (`HoldRequest`). */
  ingressResume: (instance: string) => subject('ingress', tok(instance), 'resume'),
  /** Registry queries and change events. */
  registryList: subject('registry', 'list'),
  registryChanged: subject('registry', 'changed'),
  /** Any policy replica: one decision (DecisionRequest -> DecisionReply). */
  policyDecide: subject('policy', 'decide'),
  /** Every policy replica publishes a PolicyHeartbeat here each second; routers act on policies only while one is fresh. */
  policyHeartbeat: subject('policy', 'heartbeat'),
} as const;

/** KV buckets of the platform. */
export const Buckets = {
  sessions: 'mg_sessions',
  registry: 'mg_registry',
  /** API key records by key id (libs/auth). */
  apiKeys: 'mg_api_keys',
  /** Policy sets (`set.<name>`) and the limits (`limits`), kept by the policy service. */
  policies: 'mg_policies',
  /** Rate-limit windows, quota days and concurrency leases (libs/policy limiter). */
  limits: 'mg_limits',
  /** Principals' own upstream tokens, AES-256-GCM encrypted (libs/auth upstream-token-store). */
  upstreamTokens: 'mg_upstream_tokens',
  /** Secrets every ingress replica shares (the requestState key when INGRESS_REQUEST_STATE_KEY is unset). */
  ingressSecrets: 'mg_ingress_secrets',
} as const;

/** Parses `mg.v1.ingress.<instance>.stream.<token>`; null when the subject has another shape. */
export function parseIngressStream(s: string): { instance: string; stream: string } | null {
  const parts = s.split('.');
  if (
    parts.length !== 6 ||
    parts[0] !== 'mg' ||
    parts[1] !== 'v1' ||
    parts[2] !== 'ingress' ||
    parts[4] !== 'stream'
  )
    return null;
  return { instance: parts[3]!, stream: parts[5]! };
}

/** Parses `mg.v1.session.<sid>.<verb>`; null when the subject has another shape. */
export function parseSessionSubject(s: string): { sessionId: string; verb: string } | null {
  const parts = s.split('.');
  if (parts.length !== 5 || parts[0] !== 'mg' || parts[1] !== 'v1' || parts[2] !== 'session') return null;
  return { sessionId: parts[3]!, verb: parts[4]! };
}
