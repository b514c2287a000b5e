/**
 * Signed checkpoints every N archived events or T seconds per tenant, whichever comes first. Each replica
 * checkpoints the links it wrote itself (a checkpoint names a record that exists); a tenant with nothing
 * new since its last checkpoint gets none. Failures are reported and retried with the next event or tick.
 */
import type { AuditArchive, ChainLink } from '@meshgate/store';
import { signCheckpoint, type SigningKey } from './checkpoint';

export interface CheckpointerOptions {
  archive: AuditArchive;
  key: SigningKey;
  every: number;
  intervalMs: number;
  onCheckpoint?: (tenant: string, seq: number) => void;
  onError?: (err: unknown, tenant: string) => void;
}

interface TenantState {
  pending: number;
  last: ChainLink;
}

/**
 * A running checkpointer: tell it the links written (a batch of one tenant's, in seq order), stop it on
 * shutdown (one last round first).
 */
export interface Checkpointer {
  archived(tenant: string, links: readonly ChainLink[]): void;
  stop(): Promise<void>;
}

/** Starts the per-tenant checkpoint timer. */
export function startCheckpointer(opts: CheckpointerOptions): Checkpointer {
  const tenants = new Map<string, TenantState>();
  const running = new Set<Promise<void>>();

  const checkpoint = (tenant: string, state: TenantState) => {
    state.pending = 0;
    const cp = signCheckpoint(opts.key, { tenant, ...state.last }, new Date());
    const work = opts.archive.putCheckpoint(cp).then(
      () => opts.onCheckpoint?.(tenant, cp.seq),
      (err: unknown) => {
        state.pending = Math.max(state.pending, 1);
        opts.onError?.(err, tenant);
      },
    );
    running.add(work);
    void work.finally(() => running.delete(work));
  };
  const round = () => {
    for (const [tenant, state] of tenants) if (state.pending > 0) checkpoint(tenant, state);
  };
  const timer = setInterval(round, opts.intervalMs);
  timer.unref();

  return {
    archived(tenant, links) {
      for (const link of links) {
        const state = tenants.get(tenant);
        if (!state) tenants.set(tenant, { pending: 1, last: link });
        else {
          state.pending++;
          if (link.seq > state.last.seq) state.last = link;
        }
        const current = tenants.get(tenant)!;
        if (current.pending >= opts.every) checkpoint(tenant, current);
      }
    },
    async stop() {
      clearInterval(timer);
      round();
      await Promise.all(running);
    },
  };
}
