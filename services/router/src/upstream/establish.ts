/**
 * Establishing one connection to an upstream: detect its era (or take the verdict kept for its definition),
 * open the transport that era needs and run its handshake. stdio: `server/discover` is probed on the child
 * itself; a discover result makes it modern, anything else (an error, silence, the child exiting, in which
 * case a fresh child is spawned) makes it a session server to initialize. HTTP: the probes of
 * http-era-probe (discover, then for `auto` definitions initialize, whose 400/404/405 means HTTP+SSE) pick
 * the transport; an `sse` definition is initialized without probing. A modern upstream's discover result
 * stands in for its InitializeResult. Whatever fails closes what it opened; the verdict is kept on success
 * and forgotten on failure, so the next attempt detects again.
 */
import type { HttpServer, ServerDefinition } from '@meshgate/contracts';
import { ModernProtocolVersion, discoverAsInitializeResult, type DiscoverResult } from '@meshgate/mcp';
import { classifyDiscover, classifyInitialize, type ProbeReply } from './era-detection';
import type { EraVerdict, EraVerdicts, UpstreamEra, UpstreamWire } from './era';
import { discoverHandshake, discoverParams, handshake, withTimeout } from './handshake';
import { probeDiscover, probeInitialize } from './http-era-probe';
import type { Outcome } from './relay-table';
import type { TransportEvents, UpstreamTransport } from './transport';
import type { UpstreamCaller } from './upstream-caller';
import { connectCredentials } from './upstream-credentials';

/** Longest wait for a stdio child's answer to the discover probe; a silent child is a session server. */
export const StdioProbeMs = 3000;

/**
 * A transport opened for a connection attempt, built with `make` and reporting its messages and its end to
 * `events`, except an end while it is probing: that one only settles `closed`.
 */
export class OpenedTransport {
  readonly transport: UpstreamTransport;
  /** Resolves with the reason once the transport is gone. */
  readonly closed: Promise<string>;
  /** While true, the transport going away answers the probe instead of ending the connection attempt. */
  probing = false;

  constructor(make: (events: TransportEvents) => UpstreamTransport, events: TransportEvents) {
    let closedWith!: (reason: string) => void;
    this.closed = new Promise<string>((resolve) => (closedWith = resolve));
    this.transport = make({
      message: (message, related) => events.message(message, related),
      closed: (reason) => {
        closedWith(reason);
        if (!this.probing) events.closed(reason);
      },
    });
  }
}

/** What establishing a connection works with. */
export interface EstablishDeps {
  def: ServerDefinition;
  caller: UpstreamCaller | undefined;
  verdicts: EraVerdicts;
  /** Detect afresh, ignoring a kept verdict: the connection is being re-established. */
  fresh: boolean;
  /** The gateway version sent as clientInfo.version. */
  version: string;
  /** Builds (does not start) a transport for `def`, whose `transport` names the wire to use. */
  open(def: ServerDefinition): OpenedTransport;
  /** Relays one request bound to `transport`. */
  exchange(
    transport: UpstreamTransport,
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<Outcome>;
}

/** An established connection: its transport, the InitializeResult the router keeps, and its era. */
export interface Established {
  transport: UpstreamTransport;
  initializeResult: Record<string, unknown>;
  era: UpstreamEra;
}

/** Establishes one connection; throws why it could not. */
export async function establish(deps: EstablishDeps): Promise<Established> {
  const { def } = deps;
  const kept = deps.fresh ? undefined : deps.verdicts.get(def);
  try {
    const out = def.transport === 'stdio' ? await overStdio(deps, kept) : await overHttp(deps, def, kept);
    deps.verdicts.set(def, { kind: out.era.kind, wire: out.era.wire });
    return out;
  } catch (err) {
    deps.verdicts.forget(def.name);
    throw err;
  }
}

async function overStdio(deps: EstablishDeps, kept: EraVerdict | undefined): Promise<Established> {
  let opened = await started(deps, deps.def);
  try {
    if (kept?.kind !== 'session') {
      const reply = await probeStdio(deps, opened);
      const verdict = classifyDiscover(reply, 'stdio');
      if (verdict.kind === 'modern') return modern(opened, verdict.discover, 'stdio', deps.def.name);
      if (verdict.kind === 'failed') throw new Error(verdict.reason);
      if (reply.kind === 'closed') {
        // Some older servers end on any request before initialize: a fresh child is initialized instead.
        await opened.transport.close();
        opened = await started(deps, deps.def);
      }
    }
    return await session(deps, opened, 'stdio');
  } catch (err) {
    await closeQuietly(opened);
    throw err;
  }
}

/** Asks the child server/discover; its exit meanwhile is the probe's answer, not the connection's end. */
async function probeStdio(deps: EstablishDeps, opened: OpenedTransport): Promise<ProbeReply> {
  opened.probing = true;
  try {
    return await Promise.race([
      deps
        .exchange(
          opened.transport,
          'server/discover',
          discoverParams(deps.version),
          Math.min(deps.def.timeoutMs, StdioProbeMs),
        )
        .then((out): ProbeReply => ({ kind: 'answer', ...out })),
      opened.closed.then((): ProbeReply => ({ kind: 'closed' })),
    ]);
  } finally {
    opened.probing = false;
  }
}

async function overHttp(
  deps: EstablishDeps,
  def: HttpServer,
  kept: EraVerdict | undefined,
): Promise<Established> {
  const detected: { verdict: EraVerdict; discover?: DiscoverResult } =
    def.transport === 'sse'
      ? { verdict: { kind: 'session', wire: 'sse' } }
      : kept
        ? { verdict: kept }
        : await detectHttp(deps, def);
  const { verdict, discover } = detected;
  const wire: HttpServer['transport'] = verdict.wire === 'sse' ? 'sse' : 'streamable-http';
  const opened = await started(deps, { ...def, transport: wire });
  try {
    if (verdict.kind === 'session') return await session(deps, opened, verdict.wire);
    if (discover) return modern(opened, discover, 'streamable-http', def.name);
    const initializeResult = await discoverHandshake(
      (method, params, ms) => deps.exchange(opened.transport, method, params, ms),
      def.timeoutMs,
      deps.version,
      def.name,
    );
    return {
      transport: opened.transport,
      initializeResult,
      era: { kind: 'modern', wire: 'streamable-http', protocolVersion: ModernProtocolVersion },
    };
  } catch (err) {
    await closeQuietly(opened);
    throw err;
  }
}

/** The HTTP detection ladder: discover, then (for `auto`) initialize to tell Streamable HTTP from HTTP+SSE. */
async function detectHttp(
  deps: EstablishDeps,
  def: HttpServer,
): Promise<{ verdict: EraVerdict; discover?: DiscoverResult }> {
  const credentials = await connectCredentials(def, { caller: deps.caller });
  const reply = await probeDiscover(def, credentials, discoverParams(deps.version), def.timeoutMs);
  const seen = classifyDiscover(reply, 'http');
  if (seen.kind === 'failed') throw new Error(seen.reason);
  if (seen.kind === 'modern')
    return { verdict: { kind: 'modern', wire: 'streamable-http' }, discover: seen.discover };
  if (def.transport !== 'auto') return { verdict: { kind: 'session', wire: 'streamable-http' } };
  const found = classifyInitialize(await probeInitialize(def, credentials, deps.version, def.timeoutMs));
  if (found.kind === 'failed') throw new Error(found.reason);
  return { verdict: { kind: 'session', wire: found.kind } };
}

async function session(
  deps: EstablishDeps,
  opened: OpenedTransport,
  wire: UpstreamWire,
): Promise<Established> {
  const initializeResult = await handshake(
    opened.transport,
    (method, params, ms) => deps.exchange(opened.transport, method, params, ms),
    deps.def.timeoutMs,
    deps.version,
  );
  return {
    transport: opened.transport,
    initializeResult,
    era: { kind: 'session', wire, protocolVersion: String(initializeResult['protocolVersion']) },
  };
}

function modern(
  opened: OpenedTransport,
  discover: DiscoverResult,
  wire: UpstreamWire,
  server: string,
): Established {
  return {
    transport: opened.transport,
    initializeResult: discoverAsInitializeResult(discover, server),
    era: { kind: 'modern', wire, protocolVersion: ModernProtocolVersion },
  };
}

async function started(deps: EstablishDeps, def: ServerDefinition): Promise<OpenedTransport> {
  const opened = deps.open(def);
  try {
    await withTimeout(opened.transport.start(), deps.def.timeoutMs, 'transport did not start in time');
  } catch (err) {
    await closeQuietly(opened);
    throw err;
  }
  return opened;
}

async function closeQuietly(opened: OpenedTransport): Promise<void> {
  await opened.transport.close().catch(() => undefined);
}
