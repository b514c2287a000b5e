/**
 * Where the checkpoint signing key comes from: `MESHGATE_AUDIT_SIGNING_KEY` (a PKCS#8 PEM) when set, else the
 * file `audit-signing-key.pem` in `MESHGATE_AUDIT_DATA_DIR`, created (mode 0600) on first start. Replicas that
 * share a data directory or the variable sign with one key, so one public key verifies every checkpoint.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signingKeyFrom, type SigningKey } from './checkpoint';

/** The file name of the generated key inside the data directory. */
export const KEY_FILE = 'audit-signing-key.pem';

/** Loads the signing key from `pem`, or from (creating it if needed) the key file under `dataDir`. */
export async function loadSigningKey(source: { pem?: string; dataDir: string }): Promise<SigningKey> {
  if (source.pem !== undefined) return signingKeyFrom(parsePem(source.pem, 'MESHGATE_AUDIT_SIGNING_KEY'));
  const file = join(source.dataDir, KEY_FILE);
  const existing = await readFile(file, 'utf8').catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  });
  if (existing !== null) return signingKeyFrom(parsePem(existing, file));
  await mkdir(source.dataDir, { recursive: true, mode: 0o700 });
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another replica sharing the directory created it first: use that one.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return signingKeyFrom(parsePem(await readFile(file, 'utf8'), file));
  }
  return signingKeyFrom(parsePem(pem, file));
}

function parsePem(pem: string, where: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error(`${where} does not hold a PEM private key`);
  }
}
