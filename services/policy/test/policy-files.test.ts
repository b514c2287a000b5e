/**
 * Policy files applied at start, against a store on the shared test NATS (isolated bucket): valid files are
 * stored (authoritative: whenever they differ; seed: only when absent), an invalid file is logged and the
 * stored set stays, files that are not policy sets are skipped, and the bundled default platform set is
 * stored when no platform set exists. Also the configuration the environment gives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { createLogger } from '@meshgate/config';
import { BundledPolicyDir, loadConfig } from '../src/index';
import { applyPolicyFiles } from '../src/policy-files';
import { PolicyStore } from '../src/policy-store';
import { cleanup, connectNats, isolate } from './fixtures';

let nc: NatsConnection;
const isolated = [isolate(), isolate()];
const dir = mkdtempSync(join(tmpdir(), 'mg-policy-files-'));
const log = createLogger('policy-files-test', 'silent');
const permit = 'permit (principal in Meshgate::Role::"agent", action, resource);';

beforeAll(async () => {
  nc = await connectNats('policy-files-test');
});
afterAll(async () => {
  for (const iso of isolated) await cleanup(nc, iso);
  await nc.drain();
  rmSync(dir, { recursive: true, force: true });
});

describe('applyPolicyFiles', () => {
  it('stores valid files, keeps the stored set for invalid ones, and skips what is not a policy set', async () => {
    const store = await PolicyStore.open(nc, isolated[0]!.bucket);
    writeFileSync(join(dir, 'platform.cedar'), permit);
    writeFileSync(join(dir, 'acme.cedar'), `@id("a") ${permit}`);
    writeFileSync(join(dir, 'Bad_Name.cedar'), permit);
    writeFileSync(join(dir, 'latin1.cedar'), Buffer.from([0x2f, 0x2f, 0xe9, 0x0a]));
    writeFileSync(join(dir, 'README.md'), 'not a policy');
    const files = { dir, mode: 'authoritative' as const };
    expect(await applyPolicyFiles(store, files, log)).toEqual({
      stored: ['acme', 'platform'],
      unchanged: [],
      invalid: [],
      skipped: [join(dir, 'Bad_Name.cedar'), join(dir, 'latin1.cedar')],
    });
    const acme = await store.get('acme');
    expect(acme?.record).toMatchObject({ text: `@id("a") ${permit}`, source: join(dir, 'acme.cedar') });

    writeFileSync(join(dir, 'acme.cedar'), 'permit (principal, action, resource) when { context.nope };');
    writeFileSync(join(dir, 'platform.cedar'), `// changed\n${permit}`);
    const again = await applyPolicyFiles(store, files, log);
    expect(again).toMatchObject({ stored: ['platform'], invalid: ['acme'] });
    expect((await store.get('acme'))?.revision).toBe(acme?.revision);
    expect((await store.get('platform'))?.record.text).toBe(`// changed\n${permit}`);
    expect((await applyPolicyFiles(store, files, log)).unchanged).toEqual(['platform']);
  });

  it('in seed mode stores only what is missing, and the default platform set when none exists', async () => {
    const store = await PolicyStore.open(nc, isolated[1]!.bucket);
    const empty = mkdtempSync(join(tmpdir(), 'mg-policy-empty-'));
    try {
      expect((await applyPolicyFiles(store, { dir: empty, mode: 'seed' }, log)).stored).toEqual(['platform']);
      const platform = await store.get('platform');
      expect(platform?.record.source).toBe(join(BundledPolicyDir, 'platform.cedar'));
      expect(platform?.record.text).toMatch(/@id\("agents-use-everything"\)/);
      await store.save('platform', permit, 'api:test');
      const seeded = await applyPolicyFiles(store, { dir: BundledPolicyDir, mode: 'seed' }, log);
      expect(seeded).toMatchObject({ stored: [], unchanged: ['platform'] });
      expect((await store.get('platform'))?.record.text).toBe(permit);
      await expect(
        applyPolicyFiles(store, { dir: join(empty, 'missing'), mode: 'seed' }, log),
      ).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('loadConfig', () => {
  it('reads the environment, with defaults that need nothing set', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({
      host: '127.0.0.1',
      port: 8083,
      files: { dir: BundledPolicyDir, mode: 'seed' },
      bucket: 'mg_policies',
      auth: { mode: 'api-key', keysBucket: 'mg_api_keys' },
      subjects: { decide: 'mg.v1.policy.decide', heartbeat: 'mg.v1.policy.heartbeat' },
      heartbeatMs: 1_000,
    });
    const set = loadConfig({
      MESHGATE_POLICY_DIR: '/etc/meshgate/policies',
      MESHGATE_POLICY_AUTH: 'none',
      MESHGATE_POLICY_PORT: '9000',
    });
    expect(set).toMatchObject({
      port: 9000,
      files: { dir: '/etc/meshgate/policies', mode: 'authoritative' },
      auth: { mode: 'none' },
    });
    expect(() => loadConfig({ MESHGATE_POLICY_AUTH: 'token', MESHGATE_POLICY_PORT: '99999' })).toThrow(
      /MESHGATE_POLICY_PORT[\s\S]*MESHGATE_POLICY_AUTH|MESHGATE_POLICY_AUTH[\s\S]*MESHGATE_POLICY_PORT/,
    );
  });
});
