/**
 * Virtual sessions for 2026-07-28 agents. The router serves sessions and a stateless agent has none, so
 * each (tenant, principal id, target, protocol version, client capabilities) gets one: its id is a keyed
 * digest of those (the same on every replica, so every replica finds one record in KV; unguessable without
 * the shared key), it is opened once through the router's `initialize` like any session (a synthesised
 * initialize at the newest session version with the agent's capabilities; record in KV `mg_sessions`,
 * pinned to the router replica that answered) and reused by every later request. Pinning, stateful upstream
 * connections and subscriptions therefore work as for a session; the record's protocol version is the
 * agent's (2026-07-28), so the router converts nothing down. The facts of the InitializeResult (capabilities,
 * server identity, instructions) are cached per replica for a minute; a replica without them asks the
 * pinned router replica again (`initialize` of an open session costs no upstream traffic).
 */
import { createHash } from 'node:crypto';
import {
  type ClientInfo,
  type JsonRpcRequest,
  type Principal,
  type RouterReply,
  type SessionInfo,
  type SessionRecord,
  type Target,
} from '@meshgate/contracts';
import type { Logger } from '@meshgate/config';
import { LruCache } from './lru-cache';
import type { ClientCapabilities } from './modern-envelope';
import { serverFacts, type ServerFacts } from './modern-results';
import { outcomeOf } from './mrtr-holds';
import { SupportedVersions } from './protocol';
import type { CallOptions, RouterClient } from './router-client';
import type { SessionStore } from './session-store';
import { keyedDigest } from './shared-key';

/** A virtual session ready for calls: its record and what the server it reaches told. */
export interface VirtualSession {
  record: SessionRecord;
  facts: ServerFacts;
}

/** Who asks, for what, in which version and with which capabilities. */
export interface VirtualSessionKey {
  principal: Principal;
  target: Target;
  version: string;
  capabilities: ClientCapabilities;
  clientInfo: ClientInfo | undefined;
}

/** A router answer that is a JSON-RPC error: the agent gets it as it is. */
export class VirtualSessionRefused extends Error {
  constructor(readonly error: { code: number; message: string; data?: unknown }) {
    super(error.message);
    this.name = 'VirtualSessionRefused';
  }
}

/** The session version the router is asked for: the newest the session eras have. */
const SessionEraVersion = SupportedVersions[0];

/** Client info when the agent sent none (the envelope's clientInfo is only a SHOULD). */
const UnnamedClient: ClientInfo = { name: 'mcp-agent', version: '0' };

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The id of the virtual session of `k` under `key` (43 characters, a valid SessionId and subject token). */
export function virtualSessionId(key: Buffer, k: Omit<VirtualSessionKey, 'clientInfo'>): string {
  const target = k.target.kind === 'federated' ? '*' : `server:${k.target.server}`;
  const caps = createHash('sha256').update(canonical(k.capabilities)).digest('base64url');
  return keyedDigest(key, ['virtual-session', k.principal.tenant, k.principal.id, target, k.version, caps]);
}

/** The synthesised `initialize` a virtual session is opened (or asked again for its facts) with. */
function initializeMessage(k: VirtualSessionKey): JsonRpcRequest {
  return {
    jsonrpc: '2.0',
    id: 'meshgate-virtual-session',
    method: 'initialize',
    params: {
      protocolVersion: SessionEraVersion,
      capabilities: k.capabilities,
      clientInfo: k.clientInfo ?? UnnamedClient,
    },
  };
}

function factsOf(reply: RouterReply): ServerFacts {
  const outcome = outcomeOf(reply.message);
  if (outcome.kind === 'error') throw new VirtualSessionRefused(outcome.error);
  return serverFacts(outcome.kind === 'result' ? outcome.result : {});
}

/** The virtual sessions of one replica. */
export class VirtualSessions {
  private readonly facts = new LruCache<string, ServerFacts>({ capacity: 10_000, maxAgeMs: 60_000 });
  private readonly opening = new Map<string, Promise<VirtualSession>>();

  constructor(
    private readonly key: Buffer,
    private readonly sessions: SessionStore,
    private readonly router: RouterClient,
    private readonly logger: Logger,
  ) {}

  /**
   * The virtual session of `k`, opened when it does not exist yet (one opening per id at a time on this
   * replica). The record's principal is the caller's current one, so the router decides with the roles and
   * groups of this request, not those of the request that opened the session.
   */
  async resolve(k: VirtualSessionKey, opts: CallOptions): Promise<VirtualSession> {
    const id = virtualSessionId(this.key, k);
    const record = await this.sessions.get(id);
    if (record) {
      const current = { ...record, session: { ...record.session, principal: k.principal } };
      const cached = this.facts.get(id);
      if (cached) return { record: current, facts: cached };
      const reply = await this.router.call(
        current,
        { v: 1, session: current.session, message: initializeMessage(k) },
        opts,
      );
      const facts = factsOf(reply);
      this.facts.set(id, facts);
      return { record: { ...current, router: reply.router }, facts };
    }
    const pending = this.opening.get(id);
    if (pending) return pending;
    const opening = this.open(id, k, opts).finally(() => this.opening.delete(id));
    this.opening.set(id, opening);
    return opening;
  }

  private async open(id: string, k: VirtualSessionKey, opts: CallOptions): Promise<VirtualSession> {
    const session: SessionInfo = {
      id,
      protocolVersion: k.version,
      clientCapabilities: k.capabilities,
      ...(k.clientInfo ? { clientInfo: k.clientInfo } : {}),
      target: k.target,
      principal: k.principal,
    };
    const reply = await this.router.initialize({ v: 1, session, message: initializeMessage(k) }, opts);
    const facts = factsOf(reply);
    const record: SessionRecord = { v: 1, session, router: reply.router, createdAt: Date.now() };
    await this.sessions.put(record);
    this.facts.set(id, facts);
    this.logger.debug({ session: id.slice(0, 8), router: reply.router }, 'opened a virtual session');
    return { record, facts };
  }
}
