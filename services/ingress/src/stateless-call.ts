/**
 * A stateless request answered through the router: a fresh call in the agent's virtual session, or the
 * retry of a multi round-trip request. A retry's requestState must verify (request-state.ts) for this
 * principal and this very request, else -32602 "invalid requestState" and nothing is resumed or started. A
 * `hold` state resumes the call held by the replica it names: here directly, elsewhere through
 * `mg.v1.ingress.<holder>.resume` (the holder publishes the call's progress to this replica's stream
 * meanwhile; a holder that is gone answers -32602 too, since only a fresh request can go on). A `relay`
 * state hands the upstream's own state back to it with the answers, in a fresh call.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BusError } from '@meshgate/bus';
import {
  ErrorCodes,
  HoldReply,
  Subjects,
  errorResponse,
  type HoldCancel,
  type HoldResume,
  type JsonRpcRequest,
} from '@meshgate/contracts';
import type { AuditedRequest } from './audited-request';
import type { IngressContext } from './context';
import { mapCallError } from './error-mapping';
import { sendRpcError } from './http-replies';
import { MetaKeys, RoundTripMethods, metaOf, type Envelope } from './modern-envelope';
import { ModernCall, outcomeOf, type CallBinding, type HoldDeps, type Waiter } from './mrtr-holds';
import { callerOf } from './request-principal';
import {
  argumentsDigest,
  requestTarget,
  signRequestState,
  verifyRequestState,
  type HeldState,
} from './request-state';
import { openExchange, type ExchangeOptions } from './stateless-exchange';
import type { VirtualSession } from './virtual-session';

/** One stateless request on its way: what every path below needs. */
export interface StatelessRequest {
  request: FastifyRequest;
  reply: FastifyReply;
  message: JsonRpcRequest;
  envelope: Envelope;
  session: VirtualSession;
  audited: AuditedRequest;
  started: number;
}

/** The envelope keys the router does not get: the virtual session carries what they say. */
const EnvelopeKeys: readonly string[] = [
  MetaKeys.protocolVersion,
  MetaKeys.clientCapabilities,
  MetaKeys.clientInfo,
  MetaKeys.logLevel,
];

/** Params as the router gets them: no envelope keys, no retry fields (unless handed back to an upstream). */
function routerParams(params: Record<string, unknown> | undefined, keepRetry: boolean) {
  if (params === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params))
    if (keepRetry || (k !== 'requestState' && k !== 'inputResponses')) out[k] = v;
  const meta = metaOf(params);
  if (meta) {
    const kept = Object.fromEntries(Object.entries(meta).filter(([k]) => !EnvelopeKeys.includes(k)));
    if (Object.keys(kept).length > 0) out['_meta'] = kept;
    else delete out['_meta'];
  }
  return out;
}

function holdDeps(ctx: IngressContext): HoldDeps {
  return {
    bus: ctx.bus,
    key: ctx.modern.key,
    instance: ctx.config.instanceId,
    holdMs: ctx.config.modern.holdMs,
    maxHolds: ctx.config.modern.maxHolds,
    logger: ctx.logger,
  };
}

/** The binding of a request: its principal, method, target and arguments; null when unhashable. */
function bindingOf(s: StatelessRequest): CallBinding | null {
  const { principal } = callerOf(s.request);
  try {
    return {
      tenant: principal.tenant,
      principal: principal.id,
      method: s.message.method,
      target: requestTarget(s.message.params),
      digest: argumentsDigest(s.message.params),
    };
  } catch {
    return null;
  }
}

/** Options of the exchange answering `s`, with `onGone` bound late. */
function exchangeOptions(ctx: IngressContext, s: StatelessRequest, binding: CallBinding, gone: () => void) {
  const meta = metaOf(s.message.params);
  const token = meta?.['progressToken'];
  const options: ExchangeOptions = {
    id: s.message.id,
    method: s.message.method,
    params: s.message.params,
    progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined,
    logLevel: s.envelope[MetaKeys.logLevel],
    facts: s.session.facts,
    sessionId: s.session.record.session.id,
    audited: s.audited,
    started: s.started,
    relayState: (upstreamState) =>
      signRequestState(ctx.modern.key, {
        k: 'relay',
        ...(upstreamState !== undefined ? { s: upstreamState } : {}),
        t: binding.tenant,
        p: binding.principal,
        m: binding.method,
        n: binding.target,
        d: binding.digest,
        e: Date.now() + ctx.config.modern.holdMs,
      }),
    onGone: gone,
  };
  return options;
}

/** Answers a stateless request through the router (a fresh call, or the resume of a held one). */
export async function statelessCall(ctx: IngressContext, s: StatelessRequest): Promise<unknown> {
  const binding = bindingOf(s);
  const invalid = (message: string) =>
    sendRpcError(
      s.reply,
      200,
      errorResponse(s.message.id, ErrorCodes.InvalidParams, `Invalid params: ${message}`),
    );
  if (!binding) return invalid('arguments nested too deeply');
  const state = s.message.params?.['requestState'];
  if (typeof state !== 'string' || !RoundTripMethods.includes(s.message.method))
    return startCall(ctx, s, binding, routerParams(s.message.params, false));
  const checked = verifyRequestState(ctx.modern.key, state, {
    tenant: binding.tenant,
    principal: binding.principal,
    method: binding.method,
    target: binding.target,
    digest: binding.digest,
  });
  if (!checked.ok) return invalid(`invalid requestState (${checked.reason})`);
  if (checked.state.k === 'relay') {
    // The upstream gets its own state back, or none when it sent none; never the gateway's.
    const { requestState: _gateway, ...params } = routerParams(s.message.params, true) ?? {};
    const upstreamState = checked.state.s;
    return startCall(ctx, s, binding, {
      ...params,
      ...(upstreamState !== undefined ? { requestState: upstreamState } : {}),
    });
  }
  return resumeHeld(ctx, s, binding, checked.state);
}

/** A fresh call: the exchange waits on a ModernCall fed by the router's reply and the call's stream. */
function startCall(
  ctx: IngressContext,
  s: StatelessRequest,
  binding: CallBinding,
  params: Record<string, unknown> | undefined,
): void {
  let gone = () => {};
  const waiter = openExchange(
    ctx,
    s.reply,
    exchangeOptions(ctx, s, binding, () => gone()),
  );
  if (!waiter) return;
  const record = s.session.record;
  const roundTrips = RoundTripMethods.includes(s.message.method);
  const modernCall = new ModernCall(
    holdDeps(ctx),
    ctx.modern.holds,
    record.session.id,
    binding,
    roundTrips,
    waiter,
  );
  gone = () => modernCall.cancel('the client closed the connection');
  const channel = ctx.dispatcher.open((m) => modernCall.related(m));
  const caller = callerOf(s.request);
  ctx.router
    .call(
      record,
      {
        v: 1,
        session: record.session,
        // The call's own id: agents sharing a virtual session may reuse each other's request ids.
        message: {
          jsonrpc: '2.0',
          id: modernCall.id,
          method: s.message.method,
          ...(params ? { params } : {}),
        },
        stream: channel.subject,
        clientAddress: s.request.ip.slice(0, 64),
        ...(caller.token !== undefined ? { subjectToken: caller.token } : {}),
      },
      { deadline: s.started + ctx.config.requestTimeoutMs, traceparent: s.audited.traceparent },
    )
    .then(
      (answer) => modernCall.finished(outcomeOf(answer.message)),
      (err: unknown) => {
        const mapped = mapCallError(err);
        if (mapped.outcome === 'failed') ctx.logger.error({ err, method: s.message.method }, 'call failed');
        modernCall.finished({ kind: 'error', error: { code: mapped.code, message: mapped.message } });
      },
    )
    .finally(() => channel.close());
}

/** The retry of a held call: resumed here, or on the replica holding it. */
async function resumeHeld(
  ctx: IngressContext,
  s: StatelessRequest,
  binding: CallBinding,
  state: HeldState,
): Promise<void> {
  let gone = () => {};
  const waiter = openExchange(
    ctx,
    s.reply,
    exchangeOptions(ctx, s, binding, () => gone()),
  );
  if (!waiter) return;
  const raw = s.message.params?.['inputResponses'];
  const responses = (typeof raw === 'object' && raw !== null ? raw : {}) as HoldResume['responses'];
  const deadline = s.started + ctx.config.requestTimeoutMs;
  if (state.i === ctx.config.instanceId) {
    const call = ctx.modern.holds.find(state.h, binding.tenant, binding.principal);
    if (!call) return waiter.settle({ kind: 'refused', reason: 'its request is no longer held' });
    gone = () => call.cancel('the client closed the connection');
    return call.resume(state.r, responses, waiter, deadline);
  }
  return resumeRemote(ctx, s, binding, state, responses, waiter, deadline, (cancel) => (gone = cancel));
}

async function resumeRemote(
  ctx: IngressContext,
  s: StatelessRequest,
  binding: CallBinding,
  state: HeldState,
  responses: HoldResume['responses'],
  waiter: Waiter,
  deadline: number,
  onGone: (cancel: () => void) => void,
): Promise<void> {
  const subject = Subjects.ingressResume(state.i);
  const principal = { tenant: binding.tenant, id: binding.principal };
  const channel = ctx.dispatcher.open((m) => waiter.notify(m));
  onGone(() => {
    const cancel: HoldCancel = { v: 1, op: 'cancel', hold: state.h, principal };
    ctx.bus.request(subject, cancel, HoldReply, { timeoutMs: 5000 }).catch((err: unknown) => {
      ctx.logger.warn({ err }, 'cancellation of a call held elsewhere not delivered');
    });
  });
  const resume: HoldResume = {
    v: 1,
    op: 'resume',
    hold: state.h,
    round: state.r,
    principal,
    responses,
    stream: channel.subject,
  };
  try {
    const answer = await ctx.bus.request(subject, resume, HoldReply, {
      deadline,
      traceparent: s.audited.traceparent,
    });
    waiter.settle(answer.outcome);
  } catch (err) {
    if (err instanceof BusError && err.code === 503)
      waiter.settle({ kind: 'refused', reason: 'the gateway replica holding its request is gone' });
    else {
      const mapped = mapCallError(err);
      waiter.settle({ kind: 'error', error: { code: mapped.code, message: mapped.message } });
    }
  } finally {
    channel.close();
  }
}
