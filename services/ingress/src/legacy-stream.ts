/**
 * GET `/sse` and `/servers/:name/sse`: the stream of a legacy HTTP+SSE agent (spec 2024-11-05). The stream
 * takes a new session id and names, in its first event `endpoint`, the URL to POST to
 * (`/messages?sessionId=<id>`, `/servers/<name>/messages?sessionId=<id>`). While it is open this replica
 * answers `mg.v1.session.<sid>.legacy-attach` for POSTs landing on any replica (the same principal and
 * endpoint only) and writes as `event: message` what they publish on `mg.v1.session.<sid>.to-legacy-agent`
 * (responses included) and what routers publish on `mg.v1.session.<sid>.to-agent`. A stream that gets no
 * `initialize` in time is closed; a closed stream ends its session (record deleted, `…ended` published).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Msg, Subscription } from '@nats-io/nats-core';
import { decodeJson, encodeJson } from '@meshgate/bus';
import {
  ErrorCodes,
  LegacyAttach,
  Subjects,
  ToAgent,
  ToLegacyAgent,
  errorResponse,
  type LegacyAttachReply,
  type SessionEnded,
  type Target,
} from '@meshgate/contracts';
import type { IngressContext } from './context';
import { newStreamId } from './event-id';
import { header, sameTarget, targetOf } from './mcp-guard';
import { acceptsSse } from './protocol';
import { callerOf, samePrincipal } from './request-principal';
import { newSessionId } from './session-store';
import { SseStream } from './sse-stream';
import { agentLeft, sendRpcError } from './http-replies';

/** Handles a GET of a legacy HTTP+SSE stream. */
export async function handleLegacyStream(
  ctx: IngressContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  if (!acceptsSse(header(request, 'accept')))
    return sendRpcError(
      reply,
      406,
      errorResponse(
        null,
        ErrorCodes.InvalidRequest,
        'Not Acceptable: the HTTP+SSE stream needs Accept: text/event-stream',
      ),
    );
  // Gone while authenticating: no slot, no subscription, no session.
  if (agentLeft(reply)) return;
  const sid = newSessionId();
  const target = targetOf(request);
  const { principal } = callerOf(request);
  const res = reply.raw;
  const sse = new SseStream({
    res,
    sessionId: sid,
    streamId: newStreamId(),
    kind: 'get',
    firstSeq: 1,
    fresh: true,
    priming: false,
    retryMs: ctx.config.retryMs,
    keepAliveMs: ctx.config.keepAliveMs,
    headers: {},
    onOpenChange: (d) => ctx.metrics.sseStreams.inc(d),
  });
  let live = false;
  const close = () => (live ? sse.end() : res.destroy());
  const lease = ctx.streams.acquire(sid, 'stream', close);
  if (!lease)
    return sendRpcError(reply, 429, errorResponse(null, ErrorCodes.Overloaded, 'Too many open streams'));
  reply.hijack();

  let initializing = false;
  const waiting = setTimeout(() => {
    if (!initializing) close();
  }, ctx.config.legacyInitTimeoutMs);
  waiting.unref();
  const subs: Subscription[] = [];
  res.once('close', () => {
    clearTimeout(waiting);
    for (const sub of subs) sub.unsubscribe();
    lease.release();
    void endLegacySession(ctx, sid);
  });

  const attach = (msg: Msg) => {
    let attached = false;
    try {
      const a = decodeJson(LegacyAttach, msg.data, 'legacy attach');
      attached = samePrincipal(a.principal, principal) && sameTarget(a.target, target);
      if (attached && a.initialize) {
        initializing = true;
        clearTimeout(waiting);
      }
    } catch (err) {
      ctx.logger.warn({ err }, 'refused a malformed legacy attach');
    }
    const answer: LegacyAttachReply = { v: 1, attached };
    msg.respond(encodeJson(answer));
  };
  const deliver = (schema: typeof ToLegacyAgent | typeof ToAgent, msg: Msg) => {
    if (!live) return;
    try {
      sse.send(decodeJson(schema, msg.data, 'legacy stream').message);
    } catch (err) {
      ctx.logger.warn({ err }, 'dropped a malformed message for a legacy agent');
    }
  };
  const onError = (err: Error) => ctx.logger.warn({ err }, 'legacy stream subscription failed');
  try {
    subs.push(
      ctx.bus.nc.subscribe(Subjects.sessionLegacyAttach(sid), {
        callback: (err, msg) => (err ? onError(err) : attach(msg)),
      }),
      ctx.bus.nc.subscribe(Subjects.sessionToLegacyAgent(sid), {
        callback: (err, msg) => (err ? onError(err) : deliver(ToLegacyAgent, msg)),
      }),
      ctx.bus.nc.subscribe(Subjects.sessionToAgent(sid), {
        callback: (err, msg) => (err ? onError(err) : deliver(ToAgent, msg)),
      }),
    );
    // The agent may POST as soon as it reads the endpoint: the subscriptions are live before.
    await ctx.bus.nc.flush();
  } catch (err) {
    ctx.logger.error({ err }, 'could not open a legacy stream');
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  sse.open();
  live = true;
  sse.sendEvent('endpoint', endpointOf(ctx, target, sid));
}

/** The URL the agent POSTs to, relative to the host (under the path of MESHGATE_PUBLIC_URL, if it has one). */
function endpointOf(ctx: IngressContext, target: Target, sid: string): string {
  const publicUrl = ctx.config.auth.publicUrl;
  const prefix = publicUrl === undefined ? '' : new URL(publicUrl).pathname.replace(/\/+$/, '');
  const path = target.kind === 'server' ? `/servers/${target.server}/messages` : '/messages';
  return `${prefix}${path}?sessionId=${sid}`;
}

/** Ends a legacy session: its record leaves KV and every router and ingress replica hears it ended. */
export async function endLegacySession(ctx: IngressContext, sid: string): Promise<void> {
  try {
    await ctx.sessions.delete(sid);
  } catch (err) {
    ctx.logger.warn({ err }, 'legacy session record not deleted');
  }
  const ended: SessionEnded = { v: 1, sessionId: sid, reason: 'deleted' };
  try {
    ctx.bus.publish(Subjects.sessionEnded(sid), ended);
  } catch (err) {
    ctx.logger.warn({ err }, 'legacy session end not published');
  }
}
