/**
 * The protocol era of an upstream: what era detection decided for a definition (a verdict, kept per
 * definition on this replica and shared by all its connections, so a server with one connection per
 * session is probed once) and what a connection records once it is established. A verdict is forgotten
 * when the definition changes or a connection built on it fails to establish; a connection that has to be
 * re-established detects afresh (the upstream may have been upgraded meanwhile).
 */
import type { ServerDefinition } from '@meshgate/contracts';

/** How the bytes travel: a child's stdio, Streamable HTTP (both eras), or the 2024-11-05 HTTP+SSE. */
export type UpstreamWire = 'stdio' | 'streamable-http' | 'sse';

/**
 * What detection decided: a `modern` upstream speaks 2026-07-28 (no initialize, a `_meta` envelope on every
 * request); a `session` upstream is initialized and speaks the version it chose then.
 */
export interface EraVerdict {
  kind: 'modern' | 'session';
  wire: UpstreamWire;
}

/** The era of an established connection: its verdict and the protocol version it speaks. */
export interface UpstreamEra extends EraVerdict {
  protocolVersion: string;
}

/** The verdicts of this replica, one per server, valid for the definition they were made for. */
export class EraVerdicts {
  private readonly byServer = new Map<string, { fingerprint: string; verdict: EraVerdict }>();

  /** The verdict for `def`, unless the definition changed since it was made. */
  get(def: ServerDefinition): EraVerdict | undefined {
    const known = this.byServer.get(def.name);
    return known?.fingerprint === fingerprint(def) ? known.verdict : undefined;
  }

  set(def: ServerDefinition, verdict: EraVerdict): void {
    this.byServer.set(def.name, { fingerprint: fingerprint(def), verdict });
  }

  /** Forgets the verdict of a server (its definition changed, or an upstream no longer matched it). */
  forget(server: string): void {
    this.byServer.delete(server);
  }
}

/** The whole definition: any change to it (command, URL, credentials, timeouts) calls for detection again. */
function fingerprint(def: ServerDefinition): string {
  return JSON.stringify(def);
}
