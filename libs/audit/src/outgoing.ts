/**
 * Messages of the audit stream as a publisher sends them (ADR 003): the events a service accepted within
 * one linger period, grouped by tenant and kind, in the order they were accepted, at most
 * `MAX_BATCH_EVENTS` and about `maxBytes` per message. A group of one is sent as the event itself
 * (`Nats-Msg-Id` = event id); a larger one as an AuditBatch (`Nats-Msg-Id` = batch id). The same message,
 * line and id, is what the spool keeps and the drainer republishes, so the duplicate window stores it once.
 */
import { randomUUID } from 'node:crypto';
import {
  AuditMessage,
  AuditSubjects,
  eventsOf,
  MAX_BATCH_EVENTS,
  type AuditEvent,
} from '@meshgate/contracts';

/** One message to publish: its subject, its `Nats-Msg-Id`, its JSON line and the events it carries. */
export interface Outgoing {
  subject: string;
  msgId: string;
  line: string;
  events: AuditEvent[];
}

/** The message of `events` (one tenant and kind, 1..MAX_BATCH_EVENTS), serialised from their JSON lines. */
function message(events: AuditEvent[], lines: string[]): Outgoing {
  const first = events[0] as AuditEvent;
  const subject = AuditSubjects.of(first.tenant, first.kind);
  if (events.length === 1) return { subject, msgId: first.id, line: lines[0] as string, events };
  const batch = randomUUID();
  return { subject, msgId: batch, line: `{"batch":"${batch}","events":[${lines.join(',')}]}`, events };
}

/** Groups valid events into messages; `maxBytes` bounds a batch's line (a single event may exceed it). */
export function outgoingMessages(events: readonly AuditEvent[], maxBytes: number): Outgoing[] {
  const groups = new Map<string, { events: AuditEvent[]; lines: string[]; bytes: number }[]>();
  const out: Outgoing[] = [];
  for (const event of events) {
    const key = `${event.tenant}.${event.kind}`;
    const line = JSON.stringify(event);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    let group = list.at(-1);
    if (!group || group.events.length >= MAX_BATCH_EVENTS || group.bytes + line.length + 1 > maxBytes)
      list.push((group = { events: [], lines: [], bytes: 64 }));
    group.events.push(event);
    group.lines.push(line);
    group.bytes += line.length + 1;
  }
  for (const list of groups.values()) for (const g of list) out.push(message(g.events, g.lines));
  return out;
}

/**
 * Splits a message in two (new batch ids), for a spool that has no room for it whole: better two smaller
 * lines kept than one large one lost. Null for a single event.
 */
export function splitOutgoing(item: Outgoing): [Outgoing, Outgoing] | null {
  if (item.events.length < 2) return null;
  const half = Math.ceil(item.events.length / 2);
  const part = (events: AuditEvent[]) =>
    message(
      events,
      events.map((e) => JSON.stringify(e)),
    );
  return [part(item.events.slice(0, half)), part(item.events.slice(half))];
}

/** A spooled line read back as the message it was: validated, with the subject and id it was sent with. */
export function readOutgoing(line: string): Outgoing {
  const parsed = AuditMessage.parse(JSON.parse(line));
  const events = eventsOf(parsed);
  const first = events[0] as AuditEvent;
  const msgId = 'batch' in parsed ? parsed.batch : first.id;
  return { subject: AuditSubjects.of(first.tenant, first.kind), msgId, line, events };
}

/** How many events a spooled line holds (1 for a line that cannot be read: it is counted, then dropped). */
export function eventCount(line: string): number {
  try {
    const value = JSON.parse(line) as { events?: unknown };
    return Array.isArray(value.events) && value.events.length > 0 ? value.events.length : 1;
  } catch {
    return 1;
  }
}
