/**
 * Up-conversion for agents of the stateless 2026-07-28 era: what a session-era answer lacks is
 * synthesised (`resultType` on every result, `ttlMs`/`cacheScope` on cacheable ones, the server's identity
 * in `_meta`), what the era deleted is dropped (a tool's `execution`, the `tasks` capability, which moved to
 * an extension), and the resource-not-found code of the session eras (-32002) becomes the era's -32602 with
 * the URI in `data`. Defaults follow SDK v2: `ttlMs` 0 (immediately stale) and `cacheScope` "private" (lists
 * are filtered per principal). Pure: inputs are never modified.
 */
import { z } from 'zod';
import { ErrorCodes, type JsonRpcErrorObject } from '@meshgate/contracts';
import { MetaKeys } from './modern-envelope';

type Json = Record<string, unknown>;

/** Methods whose 2026-07-28 results are cacheable (`ttlMs` and `cacheScope` required). */
export const CacheableMethods: readonly string[] = [
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'server/discover',
];

/** The cache hint a result gets when it carries none. */
export const DefaultCacheHint = { ttlMs: 0, cacheScope: 'private' } as const;

/** The server identity stamped into result `_meta` (an Implementation). */
export const ServerInfo = z.looseObject({ name: z.string().max(256), version: z.string().max(256) });
export type ServerInfo = z.infer<typeof ServerInfo>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `obj` without `key` (the same object when it has none). */
function without(obj: Json, key: string): Json {
  if (!(key in obj)) return obj;
  const out = { ...obj };
  delete out[key];
  return out;
}

/** What the 2026-07-28 revision deleted from a result: tool `execution`, the `tasks` capability. */
function dropDeleted(method: string, result: Json): Json {
  let out = result;
  const tools = result['tools'];
  if (method === 'tools/list' && Array.isArray(tools) && tools.some((t) => isObject(t) && 'execution' in t))
    out = { ...out, tools: tools.map((t) => (isObject(t) ? without(t, 'execution') : t)) };
  const caps = result['capabilities'];
  if (isObject(caps) && 'tasks' in caps) out = { ...out, capabilities: without(caps, 'tasks') };
  return out;
}

function validTtl(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** `serverInfo` stamped into `_meta` unless the result already names one (or its `_meta` is no object). */
function withServerInfo(result: Json, serverInfo: ServerInfo | undefined): Json {
  if (serverInfo === undefined) return result;
  const meta = result['_meta'];
  if (meta === undefined) return { ...result, _meta: { [MetaKeys.serverInfo]: serverInfo } };
  if (!isObject(meta) || meta[MetaKeys.serverInfo] !== undefined) return result;
  return { ...result, _meta: { ...meta, [MetaKeys.serverInfo]: serverInfo } };
}

/** The result of `method` as a 2026-07-28 agent reads it. */
export function modernResult(method: string, result: Json, serverInfo: ServerInfo | undefined): Json {
  let out = dropDeleted(method, result);
  if (out['resultType'] === undefined) out = { ...out, resultType: 'complete' };
  if (out['resultType'] === 'complete' && CacheableMethods.includes(method)) {
    const ttlMs = validTtl(out['ttlMs']) ? out['ttlMs'] : DefaultCacheHint.ttlMs;
    const scope = out['cacheScope'];
    const cacheScope = scope === 'public' || scope === 'private' ? scope : DefaultCacheHint.cacheScope;
    if (ttlMs !== out['ttlMs'] || cacheScope !== scope) out = { ...out, ttlMs, cacheScope };
  }
  return withServerInfo(out, serverInfo);
}

/** A JSON-RPC error as a 2026-07-28 agent reads it: resource-not-found is -32602 with `data.uri`. */
export function modernError(
  method: string,
  params: Record<string, unknown> | undefined,
  error: JsonRpcErrorObject,
): JsonRpcErrorObject {
  if (error.code !== ErrorCodes.ResourceNotFound) return error;
  const uri = params?.['uri'];
  const data = isObject(error.data) && typeof error.data['uri'] === 'string' ? error.data : undefined;
  if (data !== undefined) return { ...error, code: ErrorCodes.InvalidParams, data };
  if (method === 'resources/read' && typeof uri === 'string')
    return { ...error, code: ErrorCodes.InvalidParams, data: { uri } };
  return { ...error, code: ErrorCodes.InvalidParams };
}

/** The parts of an InitializeResult a DiscoverResult is built from. */
const InitializeResult = z.looseObject({
  capabilities: z.record(z.string(), z.unknown()).default({}),
  serverInfo: ServerInfo.optional(),
  instructions: z.string().optional(),
});

/** What the gateway knows of the server an agent reaches: its capabilities, identity and instructions. */
export interface ServerFacts {
  capabilities: Json;
  serverInfo: ServerInfo | undefined;
  instructions: string | undefined;
}

/** The facts of an InitializeResult (unusable members are left out, never a reason to fail). */
export function serverFacts(initializeResult: Json): ServerFacts {
  const parsed = InitializeResult.safeParse(initializeResult);
  if (!parsed.success) return { capabilities: {}, serverInfo: undefined, instructions: undefined };
  return {
    capabilities: parsed.data.capabilities,
    serverInfo: parsed.data.serverInfo,
    instructions: parsed.data.instructions,
  };
}

/** The DiscoverResult of the 2026-07-28 revision for a server with `facts`, offering `versions`. */
export function discoverResult(facts: ServerFacts, versions: readonly string[]): Json {
  const result: Json = { supportedVersions: [...versions], capabilities: facts.capabilities };
  if (facts.instructions !== undefined) result['instructions'] = facts.instructions;
  return modernResult('server/discover', result, facts.serverInfo);
}
