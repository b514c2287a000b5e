/**
 * `subscriptions/listen` (2026-07-28): a long-lived SSE response carrying the change notifications the
 * agent opted in to. Each listen runs in a session of its own, derived from the agent's virtual session
 * (same principal, target, capabilities and router pin, a fresh id), so that closing one listen releases
 * exactly what it subscribed: the router learns the session (a pinned `initialize`), the gateway subscribes
 * upstream (`resources/subscribe` through the router) to each requested URI, and forwards what reaches the
 * session's to-agent subject when the filter asks for it, stamped with the subscription id (the listen
 * request's id). The first event is `notifications/subscriptions/acknowledged` with the honoured filter:
 * the requested flags the server's capabilities support, and the URIs the upstream accepted. Closing the
 * response ends the session (`mg.v1.session.<sid>.ended`): every router replica drops its subscriptions and
 * state. A replica that stops ends its listens gracefully (the empty `subscriptions/listen` result). Open
 * listens are bounded per principal on each replica.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@nats-io/nats-core';
import { decodeJson } from '@meshgate/bus';
import {
  ErrorCodes,
  Subjects,
  ToAgent,
  errorResponse,
  parseGatewayRequestId,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type SessionEnded,
  type SessionRecord,
  type ToUpstream,
} from '@meshgate/contracts';
import type { IngressContext } from './context';
import { agentLeft, sendRpcError, writeJson } from './http-replies';
import { MetaKeys, SubscriptionFilter, type Envelope } from './modern-envelope';
import { ModernSse } from './modern-sse';
import { isRequest, outcomeOf } from './mrtr-holds';
import type { StatelessRequest } from './stateless-call';
import { keyedDigest } from './shared-key';
import { callerOf } from './request-principal';

/** Per-principal counts of open listens on this replica. */
export class ListenLimits {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a slot for `principal`; the release function, or null at the limit. */
  acquire(principal: string): (() => void) | null {
    const n = this.open.get(principal) ?? 0;
    if (n >= this.max) return null;
    this.open.set(principal, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(principal) ?? 1) - 1;
      if (left > 0) this.open.set(principal, left);
      else this.open.delete(principal);
    };
  }
}

function flag(value: unknown, field: string): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[field] === true;
}

/** The requested filter narrowed to what the server's capabilities support (opted-in fields only). */
export function honoredFilter(
  requested: SubscriptionFilter,
  capabilities: Record<string, unknown>,
): SubscriptionFilter {
  const honored: SubscriptionFilter = {};
  if (requested.toolsListChanged && flag(capabilities['tools'], 'listChanged'))
    honored.toolsListChanged = true;
  if (requested.promptsListChanged && flag(capabilities['prompts'], 'listChanged'))
    honored.promptsListChanged = true;
  if (requested.resourcesListChanged && flag(capabilities['resources'], 'listChanged'))
    honored.resourcesListChanged = true;
  if (requested.resourceSubscriptions?.length && flag(capabilities['resources'], 'subscribe'))
    honored.resourceSubscriptions = [...new Set(requested.resourceSubscriptions)];
  return honored;
}

/** Whether a notification is one `filter` asked for. */
export function accepts(filter: SubscriptionFilter, n: JsonRpcNotification): boolean {
  switch (n.method) {
    case 'notifications/tools/list_changed':
      return filter.toolsListChanged === true;
    case 'notifications/prompts/list_changed':
      return filter.promptsListChanged === true;
    case 'notifications/resources/list_changed':
      return filter.resourcesListChanged === true;
    case 'notifications/resources/updated': {
      const uri = n.params?.['uri'];
      return typeof uri === 'string' && filter.resourceSubscriptions?.includes(uri) === true;
    }
    default:
      return false;
  }
}

/** The message with the subscription id in its `_meta`. */
function stamped(method: string, params: Record<string, unknown> | undefined, id: JsonRpcRequest['id']) {
  const meta = (params?.['_meta'] ?? {}) as Record<string, unknown>;
  return { jsonrpc: '2.0', method, params: { ...params, _meta: { ...meta, [MetaKeys.subscriptionId]: id } } };
}

/** The pinned `initialize` that makes the router know a listen's session. */
function initializeOf(envelope: Envelope): JsonRpcRequest {
  return {
    jsonrpc: '2.0',
    id: 'meshgate-listen',
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: envelope[MetaKeys.clientCapabilities],
      clientInfo: envelope[MetaKeys.clientInfo] ?? { name: 'mcp-agent', version: '0' },
    },
  };
}

/** Opens a listen stream; answers the agent in every case. */
export async function listen(ctx: IngressContext, s: StatelessRequest): Promise<unknown> {
  const { reply, message } = s;
  const filter = SubscriptionFilter.parse(message.params?.['notifications']);
  const principal = callerOf(s.request).principal;
  const base = s.session.record;
  if (agentLeft(reply)) {
    s.audited.answered(null, 0, 'cancelled');
    return;
  }
  const releaseSlot = ctx.modern.listens.acquire(`${principal.tenant} ${principal.id}`);
  if (!releaseSlot)
    return sendRpcError(
      reply,
      429,
      errorResponse(message.id, ErrorCodes.Overloaded, 'Too many open subscriptions'),
    );
  const sse = new ModernSse(reply.raw, ctx.config.keepAliveMs, (d) => ctx.metrics.sseStreams.inc(d));
  let streaming = false;
  let live = false;
  let ended = false;
  const listenId = keyedDigest(ctx.modern.key, ['listen', base.session.id, randomUUID()]);
  let record: SessionRecord = { ...base, session: { ...base.session, id: listenId } };
  let sub: Subscription | undefined;
  let honored: SubscriptionFilter = {};

  const end = (graceful: boolean) => {
    if (ended) return;
    ended = true;
    sub?.unsubscribe();
    lease?.release();
    releaseSlot();
    const bye: SessionEnded = { v: 1, sessionId: listenId, reason: 'deleted' };
    try {
      ctx.bus.publish(Subjects.sessionEnded(listenId), bye);
    } catch (err) {
      ctx.logger.warn({ err }, 'end of a listen session not published');
    }
    if (graceful && streaming && sse.writable) {
      const info = s.session.facts.serverInfo;
      sse.send({
        jsonrpc: '2.0',
        id: message.id,
        result: {
          resultType: 'complete',
          _meta: { [MetaKeys.subscriptionId]: message.id, ...(info ? { [MetaKeys.serverInfo]: info } : {}) },
        },
      });
    }
    if (streaming) sse.end();
    else reply.raw.destroy();
    s.audited.answered(null, sse.bytesWritten, graceful ? 'ok' : 'cancelled');
  };

  const lease = ctx.streams.acquire(base.session.id, 'stream', () => end(true));
  if (!lease) {
    releaseSlot();
    return sendRpcError(
      reply,
      429,
      errorResponse(message.id, ErrorCodes.Overloaded, 'Too many open streams'),
    );
  }
  reply.hijack();
  reply.raw.once('close', () => end(false));

  const forward = (m: ToAgent['message']) => {
    if (isRequest(m)) {
      // A server-to-client request outside any call: a 2026-07-28 agent cannot take it; the upstream hears so.
      const issuer = parseGatewayRequestId(m.id);
      if (!issuer) return;
      const refusal: ToUpstream = {
        v: 1,
        sessionId: listenId,
        message: errorResponse(
          m.id,
          ErrorCodes.MethodNotFound,
          `a 2026-07-28 client cannot answer ${m.method.slice(0, 64)}`,
        ),
      };
      ctx.bus.publish(Subjects.routerToUpstream(issuer.instance), refusal);
      return;
    }
    if (live && !ended && accepts(honored, m)) sse.send(stamped(m.method, m.params, message.id));
  };

  try {
    sub = ctx.bus.nc.subscribe(Subjects.sessionToAgent(listenId), {
      callback: (err, msg) => {
        if (err) return void ctx.logger.warn({ err }, 'listen subscription failed');
        try {
          forward(decodeJson(ToAgent, msg.data, 'to-agent').message);
        } catch (e) {
          ctx.logger.warn({ err: e }, 'dropped a malformed message for the agent');
        }
      },
    });
    await ctx.bus.nc.flush();
    const opts = { deadline: s.started + ctx.config.requestTimeoutMs, traceparent: s.audited.traceparent };
    const call = async (m: JsonRpcRequest) => {
      const answer = await ctx.router.call(record, { v: 1, session: record.session, message: m }, opts);
      // A failover re-pins the listen's session; the unsubscribes of its end follow it (session ended).
      if (answer.router !== record.router) record = { ...record, router: answer.router };
      return outcomeOf(answer.message);
    };
    const known = await call(initializeOf(s.envelope));
    if (known.kind === 'error') throw new Error(known.error.message);
    honored = honoredFilter(filter, s.session.facts.capabilities);
    const uris = honored.resourceSubscriptions ?? [];
    const subscribed = await Promise.all(
      uris.map(async (uri, i) => {
        const answer = await call({
          jsonrpc: '2.0',
          id: `meshgate-listen-${i}`,
          method: 'resources/subscribe',
          params: { uri },
        });
        return answer.kind === 'result' ? uri : null;
      }),
    );
    const accepted = subscribed.filter((uri): uri is string => uri !== null);
    if (uris.length > 0) {
      if (accepted.length > 0) honored.resourceSubscriptions = accepted;
      else delete honored.resourceSubscriptions;
    }
  } catch (err) {
    ctx.logger.warn({ err }, 'listen could not be set up');
    if (!ended) {
      ended = true;
      sub?.unsubscribe();
      lease.release();
      releaseSlot();
      ctx.bus.publish(Subjects.sessionEnded(listenId), { v: 1, sessionId: listenId, reason: 'deleted' });
      const failure = errorResponse(
        message.id,
        ErrorCodes.UpstreamUnavailable,
        'Subscription could not be set up',
      );
      s.audited.answered(failure, writeJson(reply.raw, 200, failure), 'unavailable');
    }
    return;
  }
  if (ended) return;
  streaming = true;
  sse.open();
  sse.send(stamped('notifications/subscriptions/acknowledged', { notifications: honored }, message.id));
  ctx.metrics.observeCall(message.method, 'ok', s.started);
  if (Object.keys(honored).length === 0) return end(true);
  live = true;
}
