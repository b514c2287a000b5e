/**
 * The publishes awaiting acknowledgement, in the order they were sent. Failures are released only from
 * the front, once everything sent before them has settled, so the spool receives failed events in
 * publication order even when their rejections arrive out of order.
 */

export type Settlement = 'sent' | 'acked' | 'failed';

export class InFlight<T> {
  private readonly items: { value: T; state: Settlement }[] = [];
  private open = 0;

  /** Publishes sent and not yet settled (the bound `maxInFlight` applies to these). */
  get unsettled(): number {
    return this.open;
  }

  /** Entries held: unsettled, and settled ones behind an unsettled front. */
  get size(): number {
    return this.items.length;
  }

  /** Entries not acknowledged: unsettled or failed and not yet released. */
  get pending(): number {
    return this.items.filter((i) => i.state !== 'acked').length;
  }

  /** The summed weight of the entries not acknowledged (e.g. the events of the messages). */
  pendingWeight(weigh: (value: T) => number): number {
    return this.items.reduce((sum, i) => (i.state === 'acked' ? sum : sum + weigh(i.value)), 0);
  }

  /** True while a failed entry waits behind an unsettled one. */
  get holdsFailures(): boolean {
    return this.items.some((i) => i.state === 'failed');
  }

  add(value: T): void {
    this.items.push({ value, state: 'sent' });
    this.open++;
  }

  /**
   * Records the outcome of `value`; returns the failed entries now released from the front, in order, or
   * undefined when `value` is not awaited here (abandoned meanwhile).
   */
  settle(value: T, outcome: 'acked' | 'failed'): T[] | undefined {
    const entry = this.items.find((i) => i.value === value && i.state === 'sent');
    if (!entry) return undefined;
    entry.state = outcome;
    this.open--;
    const released: T[] = [];
    while (this.items[0] && this.items[0].state !== 'sent') {
      const head = this.items.shift() as { value: T; state: Settlement };
      if (head.state === 'failed') released.push(head.value);
    }
    return released;
  }

  /** Empties the window; returns every entry not acknowledged (unsettled or failed), in order. */
  abandon(): T[] {
    const left = this.items.filter((i) => i.state !== 'acked').map((i) => i.value);
    this.items.length = 0;
    this.open = 0;
    return left;
  }
}
