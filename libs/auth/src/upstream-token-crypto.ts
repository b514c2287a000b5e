/**
 * Encryption of principals' upstream tokens at rest: AES-256-GCM (node:crypto) with a random 96-bit IV per
 * value and the KV key as additional authenticated data, so a sealed value copied under another principal's
 * or server's key does not open. Each record names the key it was sealed with (a fingerprint, not the key):
 * after a rotation, values sealed with a previous key still open while the previous key is configured, and
 * every new value is sealed with the current one. The key comes from MESHGATE_UPSTREAM_TOKEN_KEY.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

/** The variable holding the current key: 32 random bytes, base64. */
export const UpstreamTokenKeyVar = 'MESHGATE_UPSTREAM_TOKEN_KEY';
/** Optional comma-separated previous keys (base64), only for opening values sealed before a rotation. */
export const UpstreamTokenPreviousKeysVar = 'MESHGATE_UPSTREAM_TOKEN_PREVIOUS_KEYS';

const Base64 = z.string().regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'not base64');

/** The stored form of one token (schema version 1); `iv`, `ct` and `tag` are base64. */
export const SealedUpstreamToken = z.strictObject({
  v: z.literal(1),
  alg: z.literal('A256GCM'),
  /** Fingerprint of the key that sealed it. */
  kid: z.string().regex(/^[0-9a-f]{16}$/),
  iv: Base64,
  ct: Base64,
  tag: Base64,
  updatedAt: z.iso.datetime({ offset: true }),
});
export type SealedUpstreamToken = z.infer<typeof SealedUpstreamToken>;

/** A key is missing or malformed; the message names the variable, never a key. */
export class UpstreamTokenKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamTokenKeyError';
  }
}

/** A sealed value does not open: tampered, moved to another key, or sealed with a key not configured. */
export class UpstreamTokenUnreadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamTokenUnreadable';
  }
}

/** The current key (sealing and opening) and previous keys (opening only). */
export class UpstreamTokenKeyring {
  private readonly keys = new Map<string, Buffer>();
  /** Fingerprint of the current key, written into every record it seals. */
  readonly currentId: string;

  constructor(current: Uint8Array, previous: readonly Uint8Array[] = []) {
    for (const key of [current, ...previous])
      if (key.length !== 32) throw new UpstreamTokenKeyError('an upstream token key must be 32 bytes');
    this.currentId = keyId(current);
    this.keys.set(this.currentId, Buffer.from(current));
    for (const key of previous) if (!this.keys.has(keyId(key))) this.keys.set(keyId(key), Buffer.from(key));
  }

  /** The keyring of MESHGATE_UPSTREAM_TOKEN_KEY (and _PREVIOUS_KEYS); throws when it is absent or malformed. */
  static fromEnv(env: Readonly<Record<string, string | undefined>> = process.env): UpstreamTokenKeyring {
    const current = env[UpstreamTokenKeyVar];
    if (current === undefined || current.trim() === '')
      throw new UpstreamTokenKeyError(`${UpstreamTokenKeyVar} is not set: upstream tokens cannot be sealed`);
    const previous = (env[UpstreamTokenPreviousKeysVar] ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
    return new UpstreamTokenKeyring(
      decodeKey(current, UpstreamTokenKeyVar),
      previous.map((k) => decodeKey(k, UpstreamTokenPreviousKeysVar)),
    );
  }

  /** Seals `token` for the entry `aad` (its KV key) with the current key. */
  seal(aad: string, token: string, now: number = Date.now()): SealedUpstreamToken {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(this.currentId), iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return {
      v: 1,
      alg: 'A256GCM',
      kid: this.currentId,
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      updatedAt: new Date(now).toISOString(),
    };
  }

  /** Opens a value sealed for `aad`; throws UpstreamTokenUnreadable when it does not authenticate. */
  open(aad: string, sealed: SealedUpstreamToken): string {
    if (!this.keys.has(sealed.kid))
      throw new UpstreamTokenUnreadable(`sealed with key ${sealed.kid}, which is not configured`);
    const iv = Buffer.from(sealed.iv, 'base64');
    const tag = Buffer.from(sealed.tag, 'base64');
    if (iv.length !== 12 || tag.length !== 16) throw new UpstreamTokenUnreadable('malformed IV or tag');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key(sealed.kid), iv);
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      const clear = Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]);
      return new TextDecoder('utf-8', { fatal: true }).decode(clear);
    } catch {
      throw new UpstreamTokenUnreadable('the value does not authenticate (tampered, moved or wrong key)');
    }
  }

  private key(id: string): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new UpstreamTokenUnreadable(`key ${id} is not configured`);
    return key;
  }
}

/** The fingerprint naming a key in records: 16 hex digits of a domain-separated SHA-256. */
export function keyId(key: Uint8Array): string {
  return createHash('sha256').update('meshgate upstream token key\0').update(key).digest('hex').slice(0, 16);
}

function decodeKey(text: string, variable: string): Buffer {
  if (!Base64.safeParse(text.trim()).success) throw new UpstreamTokenKeyError(`${variable} is not base64`);
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32)
    throw new UpstreamTokenKeyError(`${variable} must hold 32 bytes (base64), not ${key.length}`);
  return key;
}
