/**
 * `startEraUpstream`: one upstream fixture per protocol era, each speaking only its era. 2024-11-05 runs
 * over legacy HTTP+SSE, 2025-03-26 .. 2025-11-25 over Streamable HTTP with sessions (SDK v1, initialize
 * answered with the era's version whatever the client asked), 2026-07-28 over the SDK v2 modern-only
 * handler (modern-era-upstream.ts).
 */
import { startFeatureServerHttp } from '../fixtures/feature-server-http';
import { startFeatureServerSse } from '../fixtures/feature-server-sse';
import type { FeatureState } from '../fixtures/feature-state';
import { isModernEra, usesLegacySse, type InitializeEra, type MatrixEra } from './matrix-eras';
import { startModernEraUpstream } from './modern-era-upstream';
import { createSessionEraServer } from './session-era-server';

/** A running era fixture. */
export interface EraUpstream {
  readonly era: MatrixEra;
  /** Where a client of its era connects: `.../sse` for legacy SSE, `.../mcp` otherwise. */
  readonly url: string;
  /** How a gateway reaches it (the `type` of an `mcpServers` entry). */
  readonly transport: 'sse' | 'http';
  close(): Promise<void>;
}

async function startSessionEraUpstream(era: InitializeEra): Promise<EraUpstream> {
  const createServer = (state: FeatureState) => createSessionEraServer(era, state);
  if (usesLegacySse(era)) {
    const sse = await startFeatureServerSse({ createServer, protocolVersion: era });
    return { era, url: sse.url, transport: 'sse', close: () => sse.close() };
  }
  const http = await startFeatureServerHttp({ createServer, protocolVersion: era });
  return { era, url: http.url, transport: 'http', close: () => http.close() };
}

/** Starts the fixture of `era` on a free loopback port. */
export function startEraUpstream(era: MatrixEra): Promise<EraUpstream> {
  return isModernEra(era) ? startModernEraUpstream() : startSessionEraUpstream(era);
}

/** The name the fixture of `era` is registered under in a gateway: server names start with a letter. */
export function eraServerName(era: MatrixEra): string {
  return `era-${era}`;
}
