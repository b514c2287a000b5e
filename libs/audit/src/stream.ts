/**
 * The JetStream stream of the trail (ADR 003): `MG_AUDIT` on `mg.audit.>`, file storage, retention by age
 * and bytes, configured replicas and a duplicate window of at least ten minutes, so that a spooled event
 * republished with its id is stored once. Creating it is idempotent and safe for replicas racing to do it.
 */
import { z } from 'zod';
import { JetStreamApiError, StorageType, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { AuditStream, AuditSubjects } from '@meshgate/contracts';

const TenMinutesMs = 10 * 60_000;
/** JetStream's "stream name already in use with a different configuration" (JSStreamNameExistErr). */
const StreamNameInUse = 10058;

/** How the stream is configured; every field has a default fit for one server. */
export const AuditStreamOptions = z
  .object({
    /** Stream name; only tests and side deployments change it. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default(AuditStream),
    subjects: z.array(z.string().min(1)).min(1).default([AuditSubjects.all]),
    /** Events older than this are removed (default 30 days). */
    maxAgeMs: z
      .number()
      .int()
      .positive()
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
  .refine((o) => o.duplicateWindowMs <= o.maxAgeMs, {
    message: 'duplicateWindowMs cannot exceed maxAgeMs',
    path: ['duplicateWindowMs'],
  });
export type AuditStreamOptions = z.infer<typeof AuditStreamOptions>;

/** Creates the audit stream, or brings an existing one to the given options; returns its info. */
export async function ensureAuditStream(
  jsm: JetStreamManager,
  opts: z.input<typeof AuditStreamOptions> = {},
): Promise<StreamInfo> {
  const o = AuditStreamOptions.parse(opts);
  const config = {
    subjects: o.subjects,
    max_age: nanos(o.maxAgeMs),
    max_bytes: o.maxBytes,
    num_replicas: o.replicas,
    duplicate_window: nanos(o.duplicateWindowMs),
  };
  try {
    return await jsm.streams.add({ name: o.name, storage: StorageType.File, ...config });
  } catch (err) {
    // Already there with another configuration (or created by a replica meanwhile): align it.
    if (!(err instanceof JetStreamApiError) || err.code !== StreamNameInUse) throw err;
    return jsm.streams.update(o.name, config);
  }
}
