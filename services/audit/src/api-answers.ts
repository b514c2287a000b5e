/**
 * What the audit API answers, as zod schemas with same-named types: a page of records, the verification
 * report, the public key, and the problem document of every error. The OpenAPI document is generated from
 * these, and clients may validate with them. (Kept here until contracts takes the audit API over.)
 */
import { z } from 'zod';
import { ArchiveRecord } from '@meshgate/store';
import { VerifyReport } from './verify';

/** `GET /v1/audit/events`: matching records in archive order, and the cursor of the next page (or null). */
export const EventsPage = z.object({ events: z.array(ArchiveRecord), nextCursor: z.string().nullable() });
export type EventsPage = z.infer<typeof EventsPage>;

/** `GET /v1/audit/verify`: the report with the SPKI PEM key the checkpoints were checked with. */
export const VerifyAnswer = VerifyReport.extend({ publicKey: z.string() });
export type VerifyAnswer = z.infer<typeof VerifyAnswer>;

/** `GET /v1/audit/public-key`: the checkpoint signing key's public half. */
export const PublicKeyAnswer = z.object({
  algorithm: z.literal('Ed25519'),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** SPKI PEM. */
  publicKey: z.string(),
});
export type PublicKeyAnswer = z.infer<typeof PublicKeyAnswer>;

/** RFC 9457 problem details; a 409 of `/v1/audit/verify` also carries the report's members. */
export const Problem = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string(),
  errors: z.array(z.object({ parameter: z.string(), detail: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;
