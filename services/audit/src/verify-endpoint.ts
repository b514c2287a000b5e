/**
 * The NATS service `meshgate-audit` with its endpoint `mg.v1.audit.verify` (queue group `audit`): verifies
 * one tenant's chain and answers the report with the public key that checked the checkpoints. The request
 * and reply schemas live here until contracts takes them over.
 */
import { z } from 'zod';
import { serve, type Bus, type RunningService } from '@meshgate/bus';
import { subject, TenantId } from '@meshgate/contracts';
import type { AuditArchive } from '@meshgate/store';
import type { SigningKey } from './checkpoint';
import { verifyTenant, VerifyReport } from './verify';

/** The subject of a verification request. */
export const AuditVerifySubject = subject('audit', 'verify');

/** A verification request: which tenant. */
export const AuditVerifyRequest = z.object({ tenant: TenantId });
export type AuditVerifyRequest = z.infer<typeof AuditVerifyRequest>;

/** The answer: the report and the SPKI PEM public key the checkpoints were checked with. */
export const AuditVerifyReply = VerifyReport.extend({ publicKey: z.string() });
export type AuditVerifyReply = z.infer<typeof AuditVerifyReply>;

/** Registers the audit service's endpoints. */
export function serveAudit(
  bus: Bus,
  archive: AuditArchive,
  key: SigningKey,
  opts: {
    instanceId: string;
    version: string;
    /** The archive's retention (0: forever), so that expired records are not reported as removed. */
    retentionMs: number;
    onError: (err: unknown, endpoint: string) => void;
  },
): Promise<RunningService> {
  return serve(
    bus,
    {
      name: 'meshgate-audit',
      version: opts.version,
      description: 'Meshgate audit archive: chain verification',
      metadata: { instance: opts.instanceId },
      onError: opts.onError,
    },
    [
      {
        name: 'verify',
        subject: AuditVerifySubject,
        queue: 'audit',
        request: AuditVerifyRequest,
        defaultTimeoutMs: 60_000,
        handler: async ({ tenant }: AuditVerifyRequest): Promise<AuditVerifyReply> => ({
          ...(await verifyTenant(archive, tenant, key.publicKey, { retentionMs: opts.retentionMs })),
          publicKey: key.publicKeyPem,
        }),
      },
    ],
  );
}
