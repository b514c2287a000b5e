/**
 * Shared pieces of the audit tests: a valid event per call, a silent logger, bounded polling, and the
 * event ids a stream holds (read with an ordered consumer, in stream order, batches opened).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AuditMessage, eventsOf, type AuditEvent } from '@meshgate/contracts';
import { newAuditEvent } from '../src/event';

export const silentLogger = pino({ level: 'silent' });

export const uniqueTenant = () => `t-${randomBytes(5).toString('hex')}`;

/** A valid `upstream-call` event of `tenant`. */
export function sampleEvent(tenant: string, n = 0): AuditEvent {
  return newAuditEvent({
    kind: 'upstream-call',
    tenant,
    traceId: randomBytes(16).toString('hex'),
    service: 'router',
    instance: 'router-test',
    method: 'tools/call',
    requestId: n,
    server: 'everything',
    target: 'echo',
    latencyMs: 3,
    sizeBytes: 120,
    outcome: 'ok',
  });
}

/** Resolves once `check()` holds; rejects with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The ids of the `count` events on `filter` in `stream`, in stream order, and the messages they came in. */
export async function streamIds(
  nc: NatsConnection,
  stream: string,
  filter: string,
  count: number,
): Promise<string[] & { messages: number }> {
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: filter });
  const ids = Object.assign([] as string[], { messages: 0 });
  if (count === 0) return ids;
  const messages = await consumer.consume({ max_messages: 500 });
  const timer = setTimeout(() => void messages.close(), 10_000);
  for await (const m of messages) {
    ids.messages++;
    ids.push(...eventsOf(AuditMessage.parse(m.json())).map((e) => e.id));
    if (ids.length >= count) break;
  }
  clearTimeout(timer);
  return ids;
}
