/**
 * The NATS connection of one service process and its typed request/reply and publish. Payloads are JSON
 * validated by zod at both edges; every request carries a deadline and trace context in its headers; a
 * service error reply becomes a BusError with the replier's code.
 */
import { connect } from '@nats-io/transport-node';
import {
  InvalidArgumentError,
  RequestError,
  TimeoutError,
  NoRespondersError,
  type MsgHdrs,
  type NatsConnection,
  type Msg,
} from '@nats-io/nats-core';
import { ServiceErrorCodeHeader, ServiceErrorHeader } from '@nats-io/services';
import type { z } from 'zod';
import { BusError, CallerFault, DeadlineExceeded, Unavailable } from './errors';
import { contextHeaders, newTraceparent, type CallContext } from './context';

export interface BusOptions {
  url: string;
  /** Connection name shown by `nats server report connections`. */
  name: string;
}

export interface RequestOptions {
  /** Absolute deadline (epoch ms); or `timeoutMs` from now. */
  deadline?: number;
  timeoutMs?: number;
  traceparent?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Decodes and validates a JSON payload; a malformed one is a CallerFault naming the first problem. */
export function decodeJson<S extends z.ZodType>(schema: S, data: Uint8Array, what: string): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    throw new CallerFault(`${what}: payload is not JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CallerFault(
      `${what}: ${issue ? `${issue.path.join('.') || 'payload'}: ${issue.message}` : 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Throws the BusError carried by a service error reply, if the message is one. */
export function throwIfServiceError(msg: Msg, what: string): void {
  const code = msg.headers?.get(ServiceErrorCodeHeader);
  if (code) throw new BusError(Number(code) || 500, msg.headers?.get(ServiceErrorHeader) || `${what} failed`);
}

export class Bus {
  /** Rejecters of the requests in flight: a lost connection fails them at once (their replies are lost too). */
  private readonly inFlight = new Set<(err: BusError) => void>();

  private constructor(readonly nc: NatsConnection) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type !== 'disconnect') continue;
        const lost = new BusError(503, 'the NATS connection was lost while the request was in flight');
        for (const reject of this.inFlight) reject(lost);
        this.inFlight.clear();
      }
    })();
  }

  static async connect(opts: BusOptions): Promise<Bus> {
    const nc = await connect({
      servers: opts.url,
      name: opts.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
      // Async traces build an Error (with its stack) for every request up front: measurable CPU per call.
      noAsyncTraces: true,
    });
    return new Bus(nc);
  }

  /** Typed request/reply: validates the answer with `reply`, maps no-responders to 503 and timeouts to 504. */
  async request<S extends z.ZodType>(
    subject: string,
    payload: unknown,
    reply: S,
    opts: RequestOptions = {},
  ): Promise<z.infer<S>> {
    const msg = await this.requestRaw(subject, encodeJson(payload), opts);
    return decodeJson(reply, msg.data, subject);
  }

  /** Request with a pre-encoded payload; returns the raw reply after checking for a service error. */
  async requestRaw(
    subject: string,
    data: Uint8Array,
    opts: RequestOptions = {},
    hdrs?: MsgHdrs,
  ): Promise<Msg> {
    const deadline = opts.deadline ?? Date.now() + (opts.timeoutMs ?? 5_000);
    const timeout = Math.max(1, deadline - Date.now());
    const ctx: CallContext = { deadline, traceparent: opts.traceparent ?? newTraceparent() };
    let msg: Msg;
    let reject: ((err: BusError) => void) | undefined;
    try {
      const lost = new Promise<never>((_, r) => this.inFlight.add((reject = r)));
      msg = await Promise.race([
        this.nc.request(subject, data, { timeout, headers: contextHeaders(ctx, hdrs) }),
        lost,
      ]);
    } catch (err) {
      throw mapRequestError(err, subject);
    } finally {
      if (reject) this.inFlight.delete(reject);
    }
    throwIfServiceError(msg, subject);
    return msg;
  }

  /** Fire-and-forget publish of a JSON payload. */
  publish(subject: string, payload: unknown, hdrs?: MsgHdrs): void {
    this.nc.publish(subject, encodeJson(payload), hdrs ? { headers: hdrs } : undefined);
  }

  /** Drains subscriptions and closes; safe to call more than once. */
  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }
}

export function mapRequestError(err: unknown, subject: string): BusError {
  if (err instanceof BusError) return err;
  if (err instanceof RequestError && err.isNoResponders()) return Unavailable(subject);
  if (err instanceof NoRespondersError) return Unavailable(subject);
  // The message is larger than the server's max_payload: no replica could ever take it, so it is the
  // caller's fault (retrying elsewhere would fail the same way).
  if (err instanceof InvalidArgumentError && /max_payload/.test(err.message))
    return new CallerFault(`${subject}: message larger than the NATS max_payload`, 413);
  if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError))
    return DeadlineExceeded(subject);
  return new BusError(503, `${subject}: ${err instanceof Error ? err.message : String(err)}`);
}
