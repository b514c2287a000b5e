/**
 * Waiting for a started process to become useful: bounded polling of a check (an HTTP readiness endpoint,
 * a NATS service ping, a NATS connection), given up at once when the process dies or the user stops. Also
 * the check that a port is free before a service that listens on it starts, so that a port taken by
 * another program (or a Meshgate already running) is reported by name, and a readiness probe never
 * mistakes the other program for the new service.
 */
import { createServer } from 'node:net';
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import type { Bus } from '@meshgate/bus';

/** The wait ended without the check passing. */
export class NotReady extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReady';
  }
}

export interface WaitOptions {
  /** What is awaited, for the error message. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** A reason to give up at once (the process died, the user pressed Ctrl-C), or null to go on. */
  giveUp(): string | null;
}

/** Polls `check` until it returns true; throws NotReady on timeout or when `giveUp` names a reason. */
export async function waitUntil(check: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const reason = opts.giveUp();
    if (reason !== null) throw new NotReady(`${opts.what}: ${reason}`);
    if (await check()) return;
    if (Date.now() >= deadline)
      throw new NotReady(`${opts.what}: not ready within ${opts.timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 200));
  }
}

/** True when GET `url` answers 2xx within `timeoutMs`. */
export async function httpReady(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

const PingReply = z.looseObject({ name: z.string(), id: z.string() });

/** True when some replica of the NATS service `service` answers `$SRV.PING.<service>`. */
export async function natsServiceReady(bus: Bus, service: string, timeoutMs = 1000): Promise<boolean> {
  try {
    await bus.request(`$SRV.PING.${service}`, {}, PingReply, { timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** True when a NATS server accepts a connection at `url` within `timeoutMs`. */
export async function natsAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const nc = await connect({
      servers: url,
      timeout: timeoutMs,
      reconnect: false,
      name: 'meshgate-cli-probe',
    });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** True when `host:port` can be listened on right now. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
