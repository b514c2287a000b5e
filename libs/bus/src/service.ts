/**
 * Registers request/reply endpoints with the NATS services framework under an explicit queue group, so
 * replicas share work and `$SRV.PING|INFO|STATS` list every one. Each handler receives a validated payload
 * and its call context, and ends in a reply or an error reply: never a swallowed exception.
 */
import { Svcm, type Service, type ServiceMsg } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/nats-core';
import type { z } from 'zod';
import { decodeJson, encodeJson, type Bus } from './bus';
import { BusError, sanitizeDescription } from './errors';
import { readContext, type CallContext } from './context';

export interface EndpointSpec<S extends z.ZodType> {
  /** Endpoint name (one token) shown by $SRV.INFO. */
  name: string;
  subject: string;
  /** Queue group; `''` subscribes every replica (no queue). */
  queue: string;
  request: S;
  handler: (payload: z.infer<S>, ctx: CallContext, msg: ServiceMsg) => Promise<unknown>;
  /** Default budget when the caller sent no deadline. */
  defaultTimeoutMs?: number;
}

export interface ServiceSpec {
  name: string;
  version: string;
  description: string;
  metadata?: Record<string, string>;
  /** Extra data in every endpoint's `$SRV.STATS` answer (e.g. the state of the service's audit trail). */
  stats?: () => unknown;
  /** Called for system faults, which are logged but never leak detail beyond one line. */
  onError?: (err: unknown, endpoint: string) => void;
}

export interface RunningService {
  service: Service;
  stop(): Promise<void>;
}

/** Starts a service with its endpoints; each message is handled concurrently. */
export async function serve(
  bus: Bus,
  spec: ServiceSpec,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  endpoints: EndpointSpec<any>[],
): Promise<RunningService> {
  const svcm = new Svcm(bus.nc);
  const service = await svcm.add({
    name: spec.name,
    version: spec.version,
    description: spec.description,
    ...(spec.metadata ? { metadata: spec.metadata } : {}),
    ...(spec.stats ? { statsHandler: () => Promise.resolve(spec.stats?.() ?? null) } : {}),
    queue: '',
  });
  for (const ep of endpoints) {
    service.addEndpoint(ep.name, {
      subject: ep.subject,
      queue: ep.queue,
      handler: (err, msg) => {
        if (err) {
          spec.onError?.(err, ep.name);
          return;
        }
        void handle(ep, msg, spec);
      },
    });
  }
  return {
    service,
    async stop() {
      if (!service.isStopped) await service.stop();
    },
  };
}

async function handle(ep: EndpointSpec<z.ZodType>, msg: ServiceMsg, spec: ServiceSpec): Promise<void> {
  try {
    const ctx = readContext(msg.headers, ep.defaultTimeoutMs ?? 30_000);
    const payload = decodeJson(ep.request, msg.data, ep.name);
    const result = await ep.handler(payload, ctx, msg);
    if (msg.reply) msg.respond(encodeJson(result));
  } catch (err) {
    replyError(msg, err, ep.name, spec);
  }
}

/** Answers `msg` with the error envelope; system faults are reported through `onError`. */
export function replyError(
  msg: ServiceMsg,
  err: unknown,
  endpoint: string,
  spec: Pick<ServiceSpec, 'onError'>,
): void {
  const busErr = err instanceof BusError ? err : null;
  if (!busErr || !busErr.isCallerFault) spec.onError?.(err, endpoint);
  if (!msg.reply) return;
  const code = busErr?.code ?? 500;
  const text = busErr ? busErr.message : 'internal error';
  msg.respondError(code, sanitizeDescription(text));
}

export type { NatsConnection };
