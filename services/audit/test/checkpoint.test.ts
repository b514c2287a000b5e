/** Checkpoint signatures (Ed25519 over the canonical body) and where the signing key comes from. */
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signCheckpoint, signingKeyFrom, verifyCheckpoint } from '../src/checkpoint';
import { KEY_FILE, loadSigningKey } from '../src/signing-key';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const key = signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
const at = { tenant: 't1', seq: 42, hash: 'a'.repeat(64) };

describe('checkpoint signatures', () => {
  it('verifies a signed checkpoint with the key that signed it', () => {
    const cp = signCheckpoint(key, at, new Date('2026-11-25T10:00:00Z'));
    expect(cp).toMatchObject({ v: 1, ...at, time: '2026-11-25T10:00:00.000Z', keyId: key.keyId });
    expect(verifyCheckpoint(cp, key.publicKey)).toBe(true);
  });

  it('refuses a changed field, another key, or a forged signature', () => {
    const cp = signCheckpoint(key, at, new Date());
    expect(verifyCheckpoint({ ...cp, seq: 43 }, key.publicKey)).toBe(false);
    expect(verifyCheckpoint({ ...cp, hash: 'b'.repeat(64) }, key.publicKey)).toBe(false);
    expect(verifyCheckpoint({ ...cp, tenant: 't2' }, key.publicKey)).toBe(false);
    expect(verifyCheckpoint({ ...cp, time: new Date(0).toISOString() }, key.publicKey)).toBe(false);
    const other = signingKeyFrom(generateKeyPairSync('ed25519').privateKey);
    expect(verifyCheckpoint(cp, other.publicKey)).toBe(false);
    expect(
      verifyCheckpoint({ ...cp, signature: Buffer.alloc(64, 7).toString('base64') }, key.publicKey),
    ).toBe(false);
    expect(verifyCheckpoint({ ...cp, signature: '!!' }, key.publicKey)).toBe(false);
  });

  it('refuses a signing key that is not Ed25519', () => {
    expect(() => signingKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toThrow(
      /Ed25519/,
    );
  });
});

describe('loadSigningKey', () => {
  it('creates a key file (mode 0600) on first start and reads the same key afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-audit-key-'));
    dirs.push(dir);
    const dataDir = join(dir, 'nested');
    const first = await loadSigningKey({ dataDir });
    expect(statSync(join(dataDir, KEY_FILE)).mode & 0o777).toBe(0o600);
    const second = await loadSigningKey({ dataDir });
    expect(second.keyId).toBe(first.keyId);
    expect(second.publicKeyPem).toContain('BEGIN PUBLIC KEY');
  });

  it('prefers the PEM of the variable and names it when it is not a key', async () => {
    const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect((await loadSigningKey({ pem, dataDir: '/nonexistent' })).keyId).toBe(key.keyId);
    await expect(loadSigningKey({ pem: 'nope', dataDir: '/nonexistent' })).rejects.toThrow(
      'MESHGATE_AUDIT_SIGNING_KEY does not hold a PEM private key',
    );
  });
});
