/**
 * What travels with every bus message besides its payload: the deadline (absolute epoch ms, so that each
 * hop sees the time that is left) and the W3C trace context.
 */
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';

export const DeadlineHeader = 'Mg-Deadline';
export const TraceParentHeader = 'traceparent';

export interface CallContext {
  /** Absolute deadline in epoch milliseconds. */
  deadline: number;
  /** W3C traceparent of the caller. */
  traceparent: string;
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** 32 random hex digits. randomUUID draws from a cached entropy pool: far cheaper per call than randomBytes. */
function randomHex32(): string {
  return randomUUID().replaceAll('-', '');
}

/** A new root trace context. */
export function newTraceparent(): string {
  return `00-${randomHex32()}-${randomHex32().slice(0, 16)}-01`;
}

/** A child span of `parent` (same trace id, new span id). */
export function childTraceparent(parent: string | undefined): string {
  if (!parent || !TRACEPARENT.test(parent)) return newTraceparent();
  return `${parent.slice(0, 36)}${randomHex32().slice(0, 16)}${parent.slice(52)}`;
}

export function isTraceparent(value: string | undefined): value is string {
  return value !== undefined && TRACEPARENT.test(value);
}

/** Writes a context into NATS headers. */
export function contextHeaders(ctx: CallContext, hdrs: MsgHdrs = natsHeaders()): MsgHdrs {
  hdrs.set(DeadlineHeader, String(ctx.deadline));
  hdrs.set(TraceParentHeader, ctx.traceparent);
  return hdrs;
}

/** Reads a context from NATS headers; a missing or malformed deadline gets `defaultTimeoutMs` from now. */
export function readContext(hdrs: MsgHdrs | undefined, defaultTimeoutMs: number): CallContext {
  const rawDeadline = Number(hdrs?.get(DeadlineHeader));
  const now = Date.now();
  const deadline =
    Number.isFinite(rawDeadline) && rawDeadline > 0
      ? Math.min(rawDeadline, now + 3_600_000)
      : now + defaultTimeoutMs;
  const tp = hdrs?.get(TraceParentHeader);
  return { deadline, traceparent: isTraceparent(tp) ? tp : newTraceparent() };
}

export function remainingMs(ctx: CallContext): number {
  return ctx.deadline - Date.now();
}
