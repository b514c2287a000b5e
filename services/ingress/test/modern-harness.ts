/**
 * Test helpers for the stateless 2026-07-28 era: requests with the per-request `_meta` envelope, POSTs with
 * the standard headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name) derived from the body as an SDK v2
 * client sends them, and a stack of one fake router and ingress replicas on a private NATS.
 */
import { createHash } from 'node:crypto';
import { spawnNats, type SpawnedNats } from '@meshgate/testing';
import { Bus } from '@meshgate/bus';
import { MetaKeys } from '../src/modern-envelope';
import { start, type IngressHandle } from '../src/service';
import { startFakeRouter, type FakeRouter } from './fake-router';
import { ACCEPT, testConfig } from './harness';

export const MODERN = '2026-07-28';

/** The requestState key of every replica of `startModernStack` (and the key it derives). */
export const STATE_SECRET = 'stateless-test-key-0123456789-abcdefghij';
export const STATE_KEY = createHash('sha256').update(STATE_SECRET).digest();

export const CAPS = { sampling: {}, elicitation: { form: {} }, roots: {} };

/** A JSON-RPC request of the 2026-07-28 era: `params._meta` carries the envelope. */
export function modernRequest(
  id: number | string,
  method: string,
  params: Record<string, unknown> = {},
  capabilities: Record<string, unknown> = CAPS,
) {
  const meta = (params['_meta'] ?? {}) as Record<string, unknown>;
  return {
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...params,
      _meta: {
        [MetaKeys.protocolVersion]: MODERN,
        [MetaKeys.clientCapabilities]: capabilities,
        [MetaKeys.clientInfo]: { name: 'stateless-test', version: '1.0.0' },
        ...meta,
      },
    },
  };
}

/** The standard headers an SDK v2 client derives from a request body. */
export function standardHeaders(body: { method: string; params?: Record<string, unknown> }) {
  const headers: Record<string, string> = { 'mcp-protocol-version': MODERN, 'mcp-method': body.method };
  const name = body.params?.['name'] ?? body.params?.['uri'];
  if (typeof name === 'string')
    headers['mcp-name'] = /^[\x20-\x7e]*$/.test(name)
      ? name
      : `=?base64?${Buffer.from(name).toString('base64')}?=`;
  return headers;
}

/** POSTs a stateless request; `headers` override (or, set to undefined, remove) the derived ones. */
export function modernPost(
  url: string,
  body: { method: string; params?: Record<string, unknown> } & Record<string, unknown>,
  headers: Record<string, string | undefined> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const all: Record<string, string | undefined> = {
    'content-type': 'application/json',
    accept: ACCEPT,
    ...standardHeaders(body),
    ...headers,
  };
  const sent = Object.fromEntries(
    Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return fetch(url, {
    method: 'POST',
    headers: sent,
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** One fake router and `replicas` ingress replicas (extra env per replica) on a private NATS. */
export interface ModernStack {
  nats: SpawnedNats;
  router: FakeRouter;
  ingress: IngressHandle[];
  bus: Bus;
  url(replica: number, path?: string): string;
  stop(): Promise<void>;
}

export async function startModernStack(replicas: Record<string, string>[]): Promise<ModernStack> {
  const nats = await spawnNats();
  const router = await startFakeRouter(nats.url, 'router-modern');
  const ingress = await Promise.all(
    replicas.map((extra) =>
      start(testConfig(nats.url, { INGRESS_REQUEST_STATE_KEY: STATE_SECRET, ...extra })),
    ),
  );
  const bus = await Bus.connect({ url: nats.url, name: 'modern-test' });
  return {
    nats,
    router,
    ingress,
    bus,
    url: (replica, path = '/mcp') => `${ingress[replica]!.url}${path}`,
    async stop() {
      await Promise.all(ingress.map((i) => i.stop()));
      await router.stop();
      await bus.close();
      await nats.stop();
    },
  };
}
