/**
 * API keys on JetStream KV: issue, import (the bootstrap key a user chose), read, list by tenant, revoke
 * and rotate. Every input is validated with zod before anything is written; every change of an existing
 * record is a compare-and-set on its KV revision, so concurrent admins never lose each other's writes.
 * A revoked key stays in the bucket (with `revokedAt`), so that it is refused as revoked, not unknown.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { z } from 'zod';
import {
  ApiKeyId,
  Groups,
  KeyDescription,
  PrincipalId,
  PrincipalKind,
  RotateApiKeyRequest,
  Roles,
  TenantId,
  type ApiKeyRecord,
} from '@meshgate/contracts';
import { generateApiKey, hashSecret, parseApiKey, type GeneratedApiKey } from './api-key-format';
import {
  decodeKeyEntry,
  encodeKeyRecord,
  isRevisionConflict,
  openKeyBucket,
  type OnCorrupt,
} from './key-bucket';
import { expiryAfter, keyStatus, revocationInstant, rotatedExpiry } from './key-lifecycle';

/** What a new key is issued for. */
export const NewApiKey = z.strictObject({
  tenant: TenantId,
  principal: PrincipalId,
  kind: PrincipalKind,
  roles: Roles,
  groups: Groups.default([]),
  description: KeyDescription.optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  /** Instead of `expiresAt`: the key expires this many days after the instant it is created. */
  expiresInDays: z.number().int().positive().max(36_500).optional(),
  rotatedFrom: ApiKeyId.optional(),
});
export type NewApiKey = z.input<typeof NewApiKey>;

/** A record with the KV revision it was read or written at. */
export interface StoredApiKey {
  record: ApiKeyRecord;
  revision: number;
}

/** A key just issued: its text (shown once, never stored) and its record. */
export interface IssuedKey extends StoredApiKey {
  apiKey: string;
}

/** A change cannot be made in the key's current state (409). */
export class ApiKeyConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeyConflict';
  }
}

/** Input handed to the store breaks its schema (400). */
export class InvalidApiKeyInput extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid API key input: ${problems.join('; ')}`);
    this.name = 'InvalidApiKeyInput';
  }
}

export interface ApiKeyStoreOptions {
  /** Bucket name; `mg_api_keys` unless a test isolates itself. */
  bucket?: string;
  /** The clock, in ms since the epoch; `Date.now` by default. */
  now?: () => number;
  onCorrupt?: OnCorrupt;
}

const MaxCasAttempts = 5;

/** The API keys of every tenant; open it with `ApiKeyStore.open`. */
export class ApiKeyStore {
  /** The clock records are stamped with, in ms since the epoch. */
  readonly now: () => number;

  private constructor(
    private readonly kv: KV,
    private readonly opts: ApiKeyStoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Binds to the bucket, creating it when it is missing. */
  static async open(nc: NatsConnection, opts: ApiKeyStoreOptions = {}): Promise<ApiKeyStore> {
    return new ApiKeyStore(await openKeyBucket(nc, opts.bucket), opts);
  }

  /** Issues a new key with a fresh secret. */
  async create(input: NewApiKey): Promise<IssuedKey> {
    const fields = validate(NewApiKey, input);
    const key = generateApiKey();
    return { apiKey: key.apiKey, ...(await this.write(key, fields)) };
  }

  /**
   * Records `apiKey`, a key whose secret the caller chose (the bootstrap key of `MESHGATE_API_KEY`). Fails
   * with ApiKeyConflict when its key id is taken.
   */
  async add(apiKey: string, input: NewApiKey): Promise<StoredApiKey> {
    const fields = validate(NewApiKey, input);
    const parsed = parseApiKey(apiKey);
    if (!parsed) throw new InvalidApiKeyInput(['the API key is not of the form mgk_<16 hex>_<43 base64url>']);
    return this.write({ ...parsed, apiKey, hash: hashSecret(parsed.secret) }, fields);
  }

  /** The record of `keyId`, or null when there is none (or the id cannot exist). */
  async get(keyId: string): Promise<StoredApiKey | null> {
    if (!ApiKeyId.safeParse(keyId).success) return null;
    const entry = await this.kv.get(keyId);
    if (entry === null || entry.operation !== 'PUT') return null;
    const decoded = decodeKeyEntry(entry);
    if (!decoded.ok) {
      this.opts.onCorrupt?.(keyId, decoded.reason);
      return null;
    }
    return { record: decoded.record, revision: entry.revision };
  }

  /** Every readable record, of one tenant when `tenant` is given, oldest first. */
  async list(filter: { tenant?: string } = {}): Promise<ApiKeyRecord[]> {
    const ids: string[] = [];
    for await (const id of await this.kv.keys()) ids.push(id);
    const stored = await Promise.all(ids.map((id) => this.get(id)));
    return stored
      .filter((s): s is StoredApiKey => s !== null)
      .map((s) => s.record)
      .filter((r) => filter.tenant === undefined || r.tenant === filter.tenant)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.keyId.localeCompare(b.keyId));
  }

  /**
   * Revokes `keyId` at `atMs` (now by default; a later instant leaves it a grace period). Revoking a key
   * revoked earlier changes nothing. Null when there is no such key.
   */
  async revoke(keyId: string, opts: { atMs?: number } = {}): Promise<StoredApiKey | null> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(keyId);
      if (current === null) return null;
      const revokedAt = revocationInstant(current.record, opts.atMs ?? this.now());
      if (revokedAt === current.record.revokedAt) return current;
      const record = { ...current.record, revokedAt };
      try {
        const revision = await this.kv.update(keyId, encodeKeyRecord(record), current.revision);
        return { record, revision };
      } catch (err) {
        if (!isRevisionConflict(err) || attempt + 1 >= MaxCasAttempts) throw err;
      }
    }
  }

  /**
   * Replaces `keyId` with a new key of the same tenant, principal, kind, roles, groups and description;
   * the old key stops working after `graceSeconds` (at once by default). Only an active key that was not
   * rotated before can be rotated (ApiKeyConflict otherwise). Null when there is no such key.
   */
  async rotate(
    keyId: string,
    opts: RotateApiKeyRequest = {},
  ): Promise<{ issued: IssuedKey; replaced: StoredApiKey } | null> {
    const { graceSeconds, expiresInDays } = validate(RotateApiKeyRequest, opts);
    const old = await this.get(keyId);
    if (old === null) return null;
    const nowMs = this.now();
    const status = keyStatus(old.record, nowMs);
    if (status !== 'active') throw new ApiKeyConflict(`key ${keyId} is ${status}: create a new key instead`);
    if (old.record.revokedAt !== undefined)
      throw new ApiKeyConflict(
        `key ${keyId} was already rotated or revoked (it stops at ${old.record.revokedAt})`,
      );
    const r = old.record;
    const expiresAt = rotatedExpiry(r, nowMs, expiresInDays);
    const issued = await this.create({
      tenant: r.tenant,
      principal: r.principal,
      kind: r.kind,
      roles: r.roles,
      groups: r.groups,
      ...(r.description !== undefined ? { description: r.description } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      rotatedFrom: keyId,
    });
    const replacedRecord = {
      ...old.record,
      revokedAt: new Date(nowMs + (graceSeconds ?? 0) * 1000).toISOString(),
    };
    try {
      const revision = await this.kv.update(keyId, encodeKeyRecord(replacedRecord), old.revision);
      return { issued, replaced: { record: replacedRecord, revision } };
    } catch (err) {
      // The old key changed meanwhile (revoked, rotated elsewhere): the successor must not stay valid.
      await this.revoke(issued.record.keyId, { atMs: nowMs });
      if (isRevisionConflict(err))
        throw new ApiKeyConflict(`key ${keyId} changed during the rotation; nothing was rotated`);
      throw err;
    }
  }

  /** True when an active key with the role `platform-admin` exists. */
  async hasActivePlatformAdmin(): Promise<boolean> {
    const nowMs = this.now();
    return (await this.list()).some(
      (r) => r.roles.includes('platform-admin') && keyStatus(r, nowMs) === 'active',
    );
  }

  private async write(key: GeneratedApiKey, input: z.output<typeof NewApiKey>): Promise<StoredApiKey> {
    const nowMs = this.now();
    const { expiresInDays, ...fields } = input;
    const expiresAt = fields.expiresAt ?? expiryAfter(nowMs, expiresInDays);
    const record: ApiKeyRecord = {
      v: 1,
      keyId: key.keyId,
      ...fields,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      createdAt: new Date(nowMs).toISOString(),
      hash: key.hash,
    };
    try {
      const revision = await this.kv.create(key.keyId, encodeKeyRecord(record));
      return { record, revision };
    } catch (err) {
      if (isRevisionConflict(err)) throw new ApiKeyConflict(`key id ${key.keyId} is already taken`);
      throw err;
    }
  }
}

function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidApiKeyInput(
    parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || 'input'}: ${i.message}`),
  );
}
