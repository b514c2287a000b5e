/**
 * Whether the policy service vouches for the sets a replica decides with: every policy replica publishes
 * a PolicyHeartbeat each second while its sync is healthy (Subjects.policyHeartbeat); a deciding replica
 * (a router) acts on its policies only while a heartbeat arrived within `staleMs`, and refuses requests
 * otherwise, so that a stopped or cut-off policy service fails closed instead of leaving stale policies in
 * force. Receipt is timed on the local clock, so a remote clock's skew does not matter. `staleMs: 0` opts
 * out (always fresh; no subscription): for deployments that run no policy service, at their own risk.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { PolicyHeartbeat, Subjects } from '@meshgate/contracts';

export interface PolicyFreshnessOptions {
  /** Longest time since the last heartbeat that still counts as fresh, in ms; 0: always fresh. */
  staleMs: number;
  /** The heartbeat subject; Subjects.policyHeartbeat unless a test isolates itself. */
  subject?: string;
  /** The local clock, in ms; `Date.now` by default. */
  now?: () => number;
}

/** Follows the policy heartbeats; create it with `PolicyFreshness.start`. */
export class PolicyFreshness {
  private receivedAt: number | undefined;
  private latest: PolicyHeartbeat | undefined;
  private subscription: Subscription | undefined;

  private constructor(
    private readonly staleMs: number,
    private readonly now: () => number,
  ) {}

  /** Subscribes to the heartbeats (unless `staleMs` is 0). */
  static start(nc: NatsConnection, opts: PolicyFreshnessOptions): PolicyFreshness {
    if (!Number.isSafeInteger(opts.staleMs) || opts.staleMs < 0)
      throw new RangeError(`staleMs must be a whole number >= 0, not ${opts.staleMs}`);
    const freshness = new PolicyFreshness(opts.staleMs, opts.now ?? Date.now);
    if (opts.staleMs === 0) return freshness;
    freshness.subscription = nc.subscribe(opts.subject ?? Subjects.policyHeartbeat, {
      callback: (err, msg) => {
        if (!err) freshness.heard(msg.data);
      },
    });
    return freshness;
  }

  /** True when a heartbeat arrived within `staleMs` (always, when `staleMs` is 0). */
  fresh(): boolean {
    if (this.staleMs === 0) return true;
    return this.receivedAt !== undefined && this.now() - this.receivedAt <= this.staleMs;
  }

  /** The last valid heartbeat received, if any. */
  get last(): PolicyHeartbeat | undefined {
    return this.latest;
  }

  /** Unsubscribes; `fresh()` turns false once `staleMs` has passed. Safe to call twice. */
  stop(): void {
    if (this.subscription && !this.subscription.isClosed()) this.subscription.unsubscribe();
  }

  private heard(data: Uint8Array): void {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
    } catch {
      return;
    }
    const parsed = PolicyHeartbeat.safeParse(json);
    if (!parsed.success) return;
    this.latest = parsed.data;
    this.receivedAt = this.now();
  }
}
