/**
 * SHA-256 of a text, in hex. Node's one-shot `crypto.hash` (20.12 and later) skips building a Hash object,
 * which on a busy request-path process cost several times the hashing of a short text; older Node builds
 * take `createHash`.
 */
import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** The SHA-256 of `data` (a text as UTF-8, or bytes), as 64 lower-case hex digits. */
export const sha256Hex: (data: string | Uint8Array) => string = oneShot
  ? (data) => oneShot('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex');
