/**
 * The first admin key of a gateway, made by `meshgate start` once NATS is up. With `MESHGATE_API_KEY` set,
 * that key is recorded (a platform-admin in tenant `default`) unless it already is; a revoked or expired
 * one is never brought back. Without it, a platform-admin key is created when no active one exists, and
 * its text is returned this once so that the caller can print it; it is never stored in clear.
 */
import { DefaultTenant } from '@meshgate/contracts';
import { parseApiKey, secretMatches } from './api-key-format';
import type { ApiKeyStore, NewApiKey } from './api-key-store';
import { keyStatus } from './key-lifecycle';

/** What the bootstrap did. */
export type BootstrapOutcome =
  /** A key was created; `apiKey` is its text, to show once. */
  | { action: 'created'; keyId: string; apiKey: string }
  /** The key of `MESHGATE_API_KEY` was recorded now, or had been before. */
  | { action: 'recorded' | 'present'; keyId: string }
  /** No key was given and an active platform-admin key exists already. */
  | { action: 'existing' };

/** Raised when `MESHGATE_API_KEY` cannot serve as the admin key; the message says why, never the key. */
export class BootstrapKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapKeyError';
  }
}

const BootstrapKey: Omit<NewApiKey, 'description'> = {
  tenant: DefaultTenant,
  principal: 'admin',
  kind: 'user',
  roles: ['platform-admin'],
};

/** Makes sure the gateway has a platform-admin key (see the module comment). */
export async function ensureBootstrapKey(
  store: ApiKeyStore,
  opts: { apiKey?: string | undefined } = {},
): Promise<BootstrapOutcome> {
  if (opts.apiKey !== undefined) return recordGivenKey(store, opts.apiKey);
  if (await store.hasActivePlatformAdmin()) return { action: 'existing' };
  const issued = await store.create({ ...BootstrapKey, description: 'created by meshgate start' });
  return { action: 'created', keyId: issued.record.keyId, apiKey: issued.apiKey };
}

async function recordGivenKey(store: ApiKeyStore, apiKey: string): Promise<BootstrapOutcome> {
  const parsed = parseApiKey(apiKey);
  if (parsed === null)
    throw new BootstrapKeyError(
      'MESHGATE_API_KEY is not a Meshgate API key (mgk_<16 hex digits>_<43 base64url characters>); ' +
        'unset it and "meshgate start" creates one',
    );
  const existing = await store.get(parsed.keyId);
  if (existing === null) {
    await store.add(apiKey, { ...BootstrapKey, description: 'from MESHGATE_API_KEY' });
    return { action: 'recorded', keyId: parsed.keyId };
  }
  const { record } = existing;
  if (!secretMatches(parsed.secret, record.hash))
    throw new BootstrapKeyError(`MESHGATE_API_KEY has the id of key ${parsed.keyId} but not its secret`);
  const status = keyStatus(record, store.now());
  if (status !== 'active')
    throw new BootstrapKeyError(`MESHGATE_API_KEY (key ${parsed.keyId}) is ${status}: set another key`);
  if (!record.roles.includes('platform-admin'))
    throw new BootstrapKeyError(`MESHGATE_API_KEY (key ${parsed.keyId}) is not a platform-admin key`);
  return { action: 'present', keyId: parsed.keyId };
}
