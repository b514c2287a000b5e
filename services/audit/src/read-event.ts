/**
 * An event as the archiver holds it (ADR 003): read and validated, with its canonical JSON (RFC 8785) as
 * UTF-8, which the chain hashes and the embedded archive stores as it is. Its id, tenant and time are at
 * hand; the event object is parsed from the text only where one is needed (a conflict, a claim completed
 * record by record, an adapter that stores documents). A reader thread (reader-pool.ts) sends the texts of
 * a message's events as one buffer: the archiving thread never parses them.
 */
import type { AuditEvent } from '@meshgate/contracts';
import type { EventText } from '@meshgate/store';
import { canonical } from './chain';

const decoder = new TextDecoder();

export class ReadEvent implements EventText {
  private parsed: AuditEvent | undefined;

  /** `json` must be the canonical JSON of a valid event with that id, tenant and time. */
  constructor(
    readonly id: string,
    readonly tenant: string,
    readonly time: string,
    readonly json: Uint8Array,
    event?: AuditEvent,
  ) {
    this.parsed = event;
  }

  /** The read form of an event at hand (throws for one without a canonical form, as `canonical`). */
  static of(event: AuditEvent): ReadEvent {
    return new ReadEvent(event.id, event.tenant, event.time, Buffer.from(canonical(event)), event);
  }

  /** The event itself, parsed from its text on first use. */
  get event(): AuditEvent {
    this.parsed ??= JSON.parse(this.text()) as AuditEvent;
    return this.parsed;
  }

  /** The canonical JSON text. */
  text(): string {
    return decoder.decode(this.json);
  }

  /** True when `other` has the same canonical form. */
  sameAs(other: AuditEvent | ReadEvent): boolean {
    if (other instanceof ReadEvent) return Buffer.compare(this.json, other.json) === 0;
    return this.text() === canonical(other);
  }
}
