/**
 * The drainer: republishes spooled messages (an event or a batch each) oldest segment first, in order, with
 * their original ids, a window of publishes at a time, and deletes each segment once all its events are acknowledged. After a
 * failure it backs off (exponentially, with jitter) and resumes at the first unacknowledged event; events
 * stored but unacknowledged are published again and the stream's duplicate window keeps one copy.
 */
import { eventCount, readOutgoing, type Outgoing } from './outgoing';
import type { SealedSegment, Spool } from './spool';

export interface DrainerDeps {
  spool: Spool;
  /** Publishes one message; resolves once the stream acknowledged it. */
  send(message: Outgoing): Promise<void>;
  /** Publishes in flight at once. */
  window: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  /** `count` events reached the stream. */
  onAcked(count: number): void;
  /** A spooled line that is not a valid message (of `count` events): it cannot be published and is dropped. */
  onInvalid(segment: number, reason: string, count: number): void;
  /** A drain attempt failed; the drainer backs off for `delayMs`. */
  onRetry(reason: string, delayMs: number): void;
  /** The spool became empty; called in the same tick as the check, so no append can slip in between. */
  onEmpty(): void;
}

export interface Drainer {
  /** Wakes the drainer when the spool received events. */
  kick(): void;
  /** Ends the loop, waiting at most `timeoutMs` for the attempt under way. */
  stop(timeoutMs: number): Promise<void>;
}

/** Starts the drain loop; it idles while the spool is empty. */
export function startDrainer(deps: DrainerDeps): Drainer {
  let stopped = false;
  let wakeIdle: (() => void) | undefined;
  let wakeSleep: (() => void) | undefined;
  const progress = { segment: -1, index: 0 };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function drain(segment: SealedSegment): Promise<string | undefined> {
    const fresh = progress.segment !== segment.n;
    const items: Outgoing[] = [];
    for (const line of segment.lines) {
      try {
        items.push(readOutgoing(line));
      } catch (err) {
        if (!fresh) continue;
        deps.spool.acknowledge(segment.n, 1);
        deps.onInvalid(segment.n, reasonOf(err), eventCount(line));
      }
    }
    if (fresh) Object.assign(progress, { segment: segment.n, index: 0 });
    let i = progress.index;
    while (i < items.length && !stopped) {
      const batch = items.slice(i, i + deps.window);
      const results = await Promise.allSettled(batch.map((item) => deps.send(item)));
      const failed = results.findIndex((r) => r.status === 'rejected');
      const done = failed < 0 ? batch.length : failed;
      deps.onAcked(deps.spool.acknowledge(segment.n, done));
      i += done;
      progress.index = i;
      const rejection = results[failed];
      if (rejection?.status === 'rejected') return reasonOf(rejection.reason);
    }
    return stopped ? 'stopped' : undefined;
  }

  async function loop(): Promise<void> {
    let attempt = 0;
    while (!stopped) {
      let failure: string | undefined;
      try {
        const segment = await deps.spool.oldest();
        if (!segment) {
          if (deps.spool.events === 0) {
            deps.onEmpty();
            if (!stopped) await new Promise<void>((resolve) => (wakeIdle = resolve));
          }
          continue;
        }
        failure = await drain(segment);
        if (failure === undefined) await deps.spool.remove(segment.n);
      } catch (err) {
        failure = reasonOf(err);
      }
      if (failure === undefined || stopped) {
        attempt = 0;
        continue;
      }
      const ceiling = Math.min(deps.backoffMaxMs, deps.backoffMinMs * 2 ** Math.min(attempt++, 16));
      const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      deps.onRetry(failure, delayMs);
      await sleep(delayMs);
    }
  }

  const running = loop();
  return {
    kick: () => wakeIdle?.(),
    async stop(timeoutMs) {
      stopped = true;
      wakeIdle?.();
      wakeSleep?.();
      await Promise.race([running, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    },
  };
}

function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}
