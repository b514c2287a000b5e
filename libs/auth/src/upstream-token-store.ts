/**
 * Principals' own upstream tokens (servers with `auth: {type: 'principal-token'}`) on the KV bucket
 * `mg_upstream_tokens`, one entry per (tenant, principal, server) under the key
 * `<tenant>.<sha256(principal id), 32 hex>.<server>`. Values are sealed with AES-256-GCM (upstream-token-crypto)
 * with the entry's key as AAD, so a value never opens under another principal or server. Token values are
 * never logged and never part of an error message.
 */
import { Kvm, type KV } from '@nats-io/kv';
import { jetstream, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PrincipalId, ServerName, TenantId, Buckets } from '@meshgate/contracts';
import {
  SealedUpstreamToken,
  UpstreamTokenUnreadable,
  type UpstreamTokenKeyring,
} from './upstream-token-crypto';

/** The bucket of principals' upstream tokens. */
export const UpstreamTokenBucket = Buckets.upstreamTokens;

/** Whose token, for which server. */
export const UpstreamTokenOwner = z.strictObject({ tenant: TenantId, principal: PrincipalId });
export type UpstreamTokenOwner = z.infer<typeof UpstreamTokenOwner>;

/** A token value: printable ASCII (it travels in an HTTP header), at most 8192 characters. */
export const UpstreamTokenValue = z
  .string()
  .min(1)
  .max(8192)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** Input to the store breaks its schema (400); the message never holds the token. */
export class InvalidUpstreamTokenInput extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid upstream token input: ${problems.join('; ')}`);
    this.name = 'InvalidUpstreamTokenInput';
  }
}

export interface UpstreamTokenStoreOptions {
  /** Bucket name; `mg_upstream_tokens` unless a test isolates itself. */
  bucket?: string;
  now?: () => number;
}

/** The KV key of one principal's token for one server (the AAD of its value). */
export function upstreamTokenKey(owner: UpstreamTokenOwner, server: string): string {
  const principal = createHash('sha256').update(owner.principal, 'utf8').digest('hex').slice(0, 32);
  return `${owner.tenant}.${principal}.${server}`;
}

/** Sealed upstream tokens; open it with `UpstreamTokenStore.open`. */
export class UpstreamTokenStore {
  private constructor(
    private readonly kv: KV,
    private readonly keyring: UpstreamTokenKeyring,
    private readonly now: () => number,
  ) {}

  /** Binds to the bucket (history 1, file storage), creating it when it is missing. */
  static async open(
    nc: NatsConnection,
    keyring: UpstreamTokenKeyring,
    opts: UpstreamTokenStoreOptions = {},
  ): Promise<UpstreamTokenStore> {
    const kv = await new Kvm(jetstream(nc)).create(opts.bucket ?? UpstreamTokenBucket, {
      history: 1,
      storage: StorageType.File,
    });
    return new UpstreamTokenStore(kv, keyring, opts.now ?? Date.now);
  }

  /** Stores (or replaces) the token of `owner` for `server`, sealed with the current key. */
  async put(owner: UpstreamTokenOwner, server: string, token: string): Promise<{ updatedAt: string }> {
    const key = this.keyOf(owner, server);
    const value = UpstreamTokenValue.safeParse(token);
    if (!value.success) throw new InvalidUpstreamTokenInput([`token: ${value.error.issues[0]?.message}`]);
    const sealed = this.keyring.seal(key, value.data, this.now());
    await this.kv.put(key, JSON.stringify(sealed));
    return { updatedAt: sealed.updatedAt };
  }

  /**
   * The token of `owner` for `server`, or null when none is stored. Throws UpstreamTokenUnreadable when the
   * stored value is damaged, was moved from another entry, or was sealed with a key not configured.
   */
  async get(owner: UpstreamTokenOwner, server: string): Promise<string | null> {
    const key = this.keyOf(owner, server);
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return null;
    return this.keyring.open(key, this.sealedOf(entry.value));
  }

  /**
   * Whether `owner` has a token for `server` and when it was stored, without opening it (the status the
   * admin API answers); null when none is stored. Throws UpstreamTokenUnreadable when the value is damaged.
   */
  async status(owner: UpstreamTokenOwner, server: string): Promise<{ updatedAt: string } | null> {
    const entry = await this.kv.get(this.keyOf(owner, server));
    if (entry === null || entry.operation !== 'PUT') return null;
    return { updatedAt: this.sealedOf(entry.value).updatedAt };
  }

  /** Removes the token; resolves to whether one was stored. */
  async delete(owner: UpstreamTokenOwner, server: string): Promise<boolean> {
    const key = this.keyOf(owner, server);
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return false;
    await this.kv.delete(key);
    return true;
  }

  private sealedOf(value: Uint8Array): SealedUpstreamToken {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
    } catch {
      throw new UpstreamTokenUnreadable('the stored value is not JSON');
    }
    const sealed = SealedUpstreamToken.safeParse(json);
    if (!sealed.success) throw new UpstreamTokenUnreadable('the stored value is not a sealed token v1');
    return sealed.data;
  }

  private keyOf(owner: UpstreamTokenOwner, server: string): string {
    const who = UpstreamTokenOwner.safeParse(owner);
    const name = ServerName.safeParse(server);
    const problems = [
      ...(who.success ? [] : who.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
      ...(name.success ? [] : [`server: ${name.error.issues[0]?.message}`]),
    ];
    if (problems.length > 0) throw new InvalidUpstreamTokenInput(problems);
    return upstreamTokenKey(owner, server);
  }
}
