/**
 * Options of the audit publisher, validated once at start. The defaults suit one service replica; the
 * spool directory must be stable across restarts of that replica and never shared by two processes.
 */
import { z } from 'zod';

/** What to do when the spool is full: go on and count lost events, or refuse new requests. */
export const AuditMode = z.enum(['fail-open', 'fail-closed']);
export type AuditMode = z.infer<typeof AuditMode>;

/**
 * How long events wait to share a message by default, in ms: long enough that at one agent's pace a
 * message carries tens of events (NATS stores, delivers and acknowledges per message) and a service builds
 * them in a few bursts a second rather than after every call, short against anything that reads the trail
 * (the archiver gathers its batches for 250 ms). 10 ms cost a call at one session about twice the p50 that
 * 50 ms costs (ADR 003, sixth round). A publisher killed outright loses the events of its last period.
 */
export const DEFAULT_LINGER_MS = 50;

export const AuditPublisherOptions = z
  .object({
    /** Directory of the spool segments (created if missing). */
    spoolDir: z.string().min(1),
    /** Size bound of the spool in bytes (default 256 MiB). */
    spoolMaxBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 ** 2),
    /** Size of one spool segment file (default 4 MiB); a segment is deleted once fully acknowledged. */
    segmentBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 ** 2),
    /** `fail-closed`: `admission()` is false while the spool has less than `admissionReserveBytes` free. */
    mode: AuditMode.default('fail-open'),
    /** Room kept for events of requests already admitted (default: 64 KiB, at most a tenth of the spool). */
    admissionReserveBytes: z.number().int().nonnegative().optional(),
    /**
     * How long the first waiting event waits for others to share its message (default 50 ms; 0: until the
     * next turn of the event loop). Events wait at most this long before they are sent.
     */
    lingerMs: z.number().int().nonnegative().max(1_000).default(DEFAULT_LINGER_MS),
    /** A batch message's size bound in bytes (default 256 KiB, well under NATS's 1 MiB max_payload). */
    maxBatchBytes: z
      .number()
      .int()
      .min(1024)
      .default(256 * 1024),
    /** Messages awaiting their acknowledgement at once (direct and draining alike). */
    maxInFlight: z.number().int().positive().default(256),
    /** Events held in memory while `maxInFlight` messages are out; beyond that they go to the spool. */
    maxQueued: z.number().int().nonnegative().default(10_000),
    /** A publish not acknowledged within this time counts as failed and its message is spooled. */
    ackTimeoutMs: z.number().int().positive().default(5_000),
    /** Back-off of the drainer between failed attempts. */
    backoffMinMs: z.number().int().positive().default(250),
    backoffMaxMs: z.number().int().positive().default(10_000),
    /** How long `stop()` waits for acknowledgements in flight before spooling their events. */
    stopTimeoutMs: z.number().int().positive().default(5_000),
  })
  .refine((o) => o.backoffMinMs <= o.backoffMaxMs, {
    message: 'backoffMinMs exceeds backoffMaxMs',
    path: ['backoffMinMs'],
  });
export type AuditPublisherOptions = z.infer<typeof AuditPublisherOptions>;
