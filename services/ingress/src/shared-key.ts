/**
 * The secret every ingress replica shares: the key of requestState MACs and of virtual session ids. It is
 * SHA-256 of INGRESS_REQUEST_STATE_KEY when that is set; otherwise 32 random bytes created once, by
 * whichever replica starts first, in the KV bucket `mg_ingress_secrets` and read by every other one, so a
 * plain `meshgate start` needs no configuration. The key is never logged.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { Bus } from '@meshgate/bus';
import { Buckets } from '@meshgate/contracts';

const ENTRY = 'request-state-key';

async function openBucket(bus: Bus): Promise<KV> {
  const kvm = new Kvm(bus.nc);
  const create = () => kvm.create(Buckets.ingressSecrets, { history: 1 });
  try {
    return await create();
  } catch {
    // Another replica created the bucket at the same moment; the second attempt finds it.
    return await create();
  }
}

/** The shared key: from configuration, or from (and, the first time, into) KV. */
export async function loadSharedKey(bus: Bus, configured: string | undefined): Promise<Buffer> {
  if (configured !== undefined) return createHash('sha256').update(configured).digest();
  const kv = await openBucket(bus);
  try {
    await kv.create(ENTRY, randomBytes(32).toString('base64url'));
  } catch {
    // Created before (by this or another replica): the stored key stands.
  }
  const entry = await kv.get(ENTRY);
  const key = entry && entry.operation === 'PUT' ? Buffer.from(entry.string(), 'base64url') : undefined;
  if (!key || key.length !== 32) throw new Error(`${Buckets.ingressSecrets}/${ENTRY} is not a 32-byte key`);
  return key;
}

/** HMAC-SHA256 (base64url, 43 characters) of `parts` under `key`, separated so no two lists collide. */
export function keyedDigest(key: Buffer, parts: readonly string[]): string {
  return createHmac('sha256', key).update(JSON.stringify(parts)).digest('base64url');
}
