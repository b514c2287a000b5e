/**
 * One wildcard subscription per replica on `mg.v1.ingress.<instance>.stream.*` carries every message that
 * belongs to an in-flight POST (progress, logs, server-to-client requests); each POST registers a random
 * token and receives what arrives on its subject. A call therefore costs no SUB/UNSUB (ADR 001).
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@nats-io/nats-core';
import { decodeJson, type Bus } from '@meshgate/bus';
import { Subjects, ToAgent, parseIngressStream } from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';

/** What one POST holds while its call is in flight. */
export interface StreamChannel {
  /** Subject the router publishes related messages on (the `stream` of the RouterCall). */
  subject: string;
  close(): void;
}

/** The replica's dispatcher of related messages to in-flight POSTs. */
export interface StreamDispatcher {
  /** Registers a new token; its messages go to `onMessage` until the channel closes. */
  open(onMessage: (message: ToAgent['message']) => void): StreamChannel;
  stop(): void;
}

/** Subscribes this replica's stream wildcard and dispatches by token. */
export function startStreamDispatcher(bus: Bus, instanceId: string, logger: Logger): StreamDispatcher {
  const handlers = new Map<string, (message: ToAgent['message']) => void>();
  const sub: Subscription = bus.nc.subscribe(Subjects.ingressStreamAll(instanceId), {
    callback: (err, msg) => {
      if (err) {
        logger.error({ err }, 'stream subscription failed');
        return;
      }
      const parsed = parseIngressStream(msg.subject);
      const handler = parsed ? handlers.get(parsed.stream) : undefined;
      if (!handler) return;
      try {
        handler(decodeJson(ToAgent, msg.data, 'to-agent').message);
      } catch (e) {
        logger.warn({ err: e, subject: msg.subject }, 'dropped a malformed message for the agent');
      }
    },
  });
  return {
    open(onMessage) {
      // randomUUID draws from a cached entropy pool: much cheaper per call than randomBytes.
      const token = randomUUID();
      handlers.set(token, onMessage);
      return {
        subject: Subjects.ingressStream(instanceId, token),
        close: () => void handlers.delete(token),
      };
    },
    stop() {
      sub.unsubscribe();
      handlers.clear();
    },
  };
}
