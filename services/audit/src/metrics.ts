/**
 * The archiver's Prometheus metrics, on a registry of its own (several replicas may share a test process):
 * events archived, duplicates acknowledged, dead letters, checkpoints written, failed archive writes, and the consumer lag read
 * from the server at scrape time.
 */
import { Counter, Gauge, Registry } from 'prom-client';

/** The metrics of one archiver replica. */
export interface AuditMetrics {
  registry: Registry;
  archived: Counter;
  duplicates: Counter;
  deadLetters: Counter;
  checkpoints: Counter;
  archiveErrors: Counter;
}

/** Builds the metrics; `lag` is asked at every scrape. */
export function createMetrics(lag: () => Promise<number>): AuditMetrics {
  const registry = new Registry();
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  new Gauge({
    name: 'meshgate_audit_consumer_lag',
    help: 'Messages of the audit stream not yet archived (pending plus unacknowledged); a message carries one event or a batch.',
    registers: [registry],
    async collect() {
      this.set(await lag().catch(() => -1));
    },
  });
  return {
    registry,
    archived: counter('meshgate_audit_events_archived_total', 'Audit events archived with their chain link.'),
    duplicates: counter('meshgate_audit_duplicates_total', 'Redelivered audit events already archived.'),
    deadLetters: counter(
      'meshgate_audit_dead_letters_total',
      'Invalid audit events sent to the dead letter.',
    ),
    checkpoints: counter('meshgate_audit_checkpoints_total', 'Signed checkpoints written.'),
    archiveErrors: counter(
      'meshgate_audit_archive_errors_total',
      'Failed attempts to archive (store unreachable, disk full); the events are redelivered.',
    ),
  };
}
