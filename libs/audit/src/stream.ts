/**
 * The JetStream stream of the trail (ADR 003): `MG_AUDIT` on `mg.audit.>`, file storage, retention by age
 * and bytes, configured replicas and a duplicate window of at least ten minutes, so that a spooled event
 * republished with its id is stored once. Every service that publishes or archives calls `ensureAuditStream`:
 * the first creates the stream with its options; an existing stream keeps the configuration it has (its
 * operator may have changed retention or replicas since, e.g. `nats stream edit`). Safe for replicas racing.
 */
import { z } from 'zod';
import { StorageType, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { AuditStream, AuditSubjects } from '@meshgate/contracts';

const TenMinutesMs = 10 * 60_000;

/** How the stream is configured; every field has a default fit for one server. */
export const AuditStreamOptions = z
  .object({
    /** Stream name; only tests and side deployments change it. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default(AuditStream),
    subjects: z.array(z.string().min(1)).min(1).default([AuditSubjects.all]),
    /** Events older than this are removed (default 30 days; 0 keeps them until `maxBytes`). */
    maxAgeMs: z
      .number()
      .int()
      .nonnegative()
      .default(30 * 24 * 3_600_000),
    /** The stream keeps at most this many bytes, dropping the oldest (default 10 GiB). */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 ** 3),
    /** 1 on a single server, 3 in a cluster. */
    replicas: z.number().int().min(1).max(5).default(1),
    /** Ids seen within this window are stored once (default 1 hour, at least 10 minutes). */
    duplicateWindowMs: z.number().int().min(TenMinutesMs).default(3_600_000),
  })
  .refine((o) => o.maxAgeMs === 0 || o.duplicateWindowMs <= o.maxAgeMs, {
    message: 'duplicateWindowMs cannot exceed maxAgeMs',
    path: ['duplicateWindowMs'],
  });
export type AuditStreamOptions = z.infer<typeof AuditStreamOptions>;

/** Creates the audit stream when it is missing; returns its info (an existing stream's, as it is). */
export async function ensureAuditStream(
  jsm: JetStreamManager,
  opts: z.input<typeof AuditStreamOptions> = {},
): Promise<StreamInfo> {
  const o = AuditStreamOptions.parse(opts);
  try {
    return await jsm.streams.add({
      name: o.name,
      storage: StorageType.File,
      subjects: o.subjects,
      max_age: nanos(o.maxAgeMs),
      max_bytes: o.maxBytes,
      num_replicas: o.replicas,
      duplicate_window: nanos(o.duplicateWindowMs),
    });
  } catch (err) {
    // There already, with another configuration (or made by a replica meanwhile; nats-server 2.9 may
    // answer that race with "subjects overlap"): keep what is there.
    const existing = await jsm.streams.info(o.name).catch(() => null);
    if (existing) return existing;
    throw err;
  }
}
