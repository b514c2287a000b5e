/**
 * The admin key step of `meshgate start`, run once NATS answers: records `MESHGATE_API_KEY` as the
 * platform-admin key, or creates one when no active platform-admin key exists, through libs/auth's
 * `ensureBootstrapKey`. What happened is returned for the banner, which shows a created key's text once.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { ApiKeyStore, ensureBootstrapKey } from '@meshgate/auth';

/** What the banner says about the admin key. */
export type AdminKeyNotice =
  /** Created now: its text, shown this once. */
  | { kind: 'created'; apiKey: string }
  /** MESHGATE_API_KEY is the admin key. */
  | { kind: 'from-env' }
  /** An active platform-admin key exists from an earlier run. */
  | { kind: 'existing' };

/** Makes sure the gateway has an admin key; `bucket` is for tests. */
export async function bootstrapAdminKey(
  nc: NatsConnection,
  apiKey: string | undefined,
  bucket?: string,
): Promise<AdminKeyNotice> {
  const store = await ApiKeyStore.open(nc, bucket !== undefined ? { bucket } : {});
  const outcome = await ensureBootstrapKey(store, { apiKey });
  switch (outcome.action) {
    case 'created':
      return { kind: 'created', apiKey: outcome.apiKey };
    case 'recorded':
    case 'present':
      return { kind: 'from-env' };
    case 'existing':
      return { kind: 'existing' };
  }
}
