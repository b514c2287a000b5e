/**
 * `startModernEraUpstream`: the 2026-07-28 era fixture (modern-era-server) served over HTTP by the modern
 * fixture's runner (fixtures/modern-server-http: SDK v2 `createMcpHandler` with `legacy: 'reject'`, so it
 * speaks the modern era only; 127.0.0.1, path `/mcp`).
 */
import { startModernServerHttp } from '../fixtures/modern-server-http';
import { createModernEraServer } from './modern-era-server';
import { MODERN_ERA } from './matrix-eras';
import type { EraUpstream } from './era-upstream';

/** Starts the 2026-07-28 era fixture; see the file header. */
export async function startModernEraUpstream(): Promise<EraUpstream> {
  const server = await startModernServerHttp({ createServer: () => createModernEraServer() });
  return { era: MODERN_ERA, url: server.url, transport: 'http', close: () => server.close() };
}
