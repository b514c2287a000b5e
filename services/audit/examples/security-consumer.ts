/**
 * How a security team reads the audit trail straight from JetStream, without the audit API: its own
 * durable pull consumer on `MG_AUDIT` (filtered to one tenant here), explicit acks, each message validated
 * against the published schema (docs/schemas/audit-message.v1.schema.json: one event, or a batch of events
 * of the subject's tenant and kind). Run from the repository root:
 *
 *   NATS_URL=nats://127.0.0.1:4222 AUDIT_TENANT=default node --import tsx services/audit/examples/security-consumer.ts
 *
 * The durable `secops-siem` keeps its position on the server: stop and start it again and it goes on where
 * it stopped. Remove it with `nats consumer rm MG_AUDIT secops-siem` when it is no longer wanted.
 */
import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { AuditMessage, AuditStream, AuditSubjects, eventsOf } from '@meshgate/contracts';

const nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
const tenant = process.env['AUDIT_TENANT'] ?? 'default';
const jsm = await jetstreamManager(nc);
await jsm.consumers.add(AuditStream, {
  durable_name: 'secops-siem',
  ack_policy: AckPolicy.Explicit,
  deliver_policy: DeliverPolicy.All,
  filter_subject: AuditSubjects.tenant(tenant),
  max_ack_pending: 1_000,
});
const messages = await (await jetstream(nc).consumers.get(AuditStream, 'secops-siem')).consume();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void messages.close());

for await (const msg of messages) {
  const parsed = AuditMessage.safeParse(msg.json());
  if (!parsed.success) {
    // Not an audit message v1: keep it out of the SIEM, but acknowledge it so it is not redelivered forever.
    process.stderr.write(
      `skipped stream message ${msg.seq}: ${parsed.error.issues[0]?.message ?? 'invalid'}\n`,
    );
    msg.ack();
    continue;
  }
  // Forward to the SIEM here; acknowledge only once it holds every event of the message. Dedupe on the
  // event id: a message is stored once, but the archive's own retries never reach this stream.
  for (const e of eventsOf(parsed.data))
    process.stdout.write(
      `${e.time} ${e.tenant} ${e.kind} ${e.principal ?? '-'} ${e.target ?? ''} trace=${e.traceId}\n`,
    );
  msg.ack();
}
await nc.drain();
