/**
 * The limits file applied at start, against a store on the shared test NATS (isolated buckets): a valid
 * `limits.json` is stored (authoritative: whenever it differs; seed: only when nothing is stored), an
 * invalid one is logged with its zod issues and the stored limits stay, the bundled directory has none,
 * and a replica started with MESHGATE_POLICY_DIR stores a value the routers parse as a LimitsConfig.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { LimitsConfig, type LimitRuleInput } from '@meshgate/contracts';
import { openPolicyBucket } from '@meshgate/policy';
import { LimitsKey } from '@meshgate/contracts';
import { BundledPolicyDir, MaxLimitsBytes, start } from '../src/index';
import { applyLimitsFile } from '../src/limits-file';
import { LimitsStore } from '../src/limits-store';
import { cleanup, configFor, connectNats, isolate } from './fixtures';

let nc: NatsConnection;
const isolated = [isolate(), isolate(), isolate()];
const root = mkdtempSync(join(tmpdir(), 'mg-policy-limits-'));
const lines: Record<string, unknown>[] = [];
const log = pino(
  { level: 'warn' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  }),
);
const limits: { v: 1; rules: LimitRuleInput[] } = {
  v: 1,
  rules: [
    { id: 'agent-rate', per: ['principal'], requests: { limit: 100, windowS: 60 } },
    { id: 'acme-daily', match: { tenant: 'acme' }, dailyQuota: 10_000 },
  ],
};

beforeAll(async () => {
  nc = await connectNats('policy-limits-file-test');
});
afterAll(async () => {
  for (const iso of isolated) await cleanup(nc, iso);
  await nc.drain();
  rmSync(root, { recursive: true, force: true });
});

function dirWith(name: string, content?: string | Buffer): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  if (content !== undefined) writeFileSync(join(dir, 'limits.json'), content);
  return dir;
}

describe('applyLimitsFile', () => {
  it('stores a valid file whenever it differs, and keeps the stored limits for a bad one', async () => {
    const store = await LimitsStore.open(nc, isolated[0]!.bucket);
    const authoritative = (dir: string) => applyLimitsFile(store, { dir, mode: 'authoritative' }, log);
    expect(await authoritative(dirWith('none'))).toBe('absent');
    expect((await store.get()).revision).toBe(0);

    expect(await authoritative(dirWith('valid', JSON.stringify(limits, null, 2)))).toBe('stored');
    const first = await store.get();
    expect(first.config).toEqual(LimitsConfig.parse(limits));
    expect(await authoritative(dirWith('valid'))).toBe('unchanged');

    lines.length = 0;
    const bad = { v: 1, rules: [{ id: 'Bad Id', requests: { limit: 100, windowS: 0 } }] };
    expect(await authoritative(dirWith('invalid', JSON.stringify(bad)))).toBe('invalid');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        path: join(root, 'invalid', 'limits.json'),
        msg: 'invalid limits file; the stored limits stay in force',
        issues: [
          { path: 'rules.0.id', message: 'lower-case letters, digits and "-"' },
          { path: 'rules.0.requests.windowS', message: expect.stringMatching(/>=1/) },
        ],
      }),
    ]);
    expect(await authoritative(dirWith('not-json', '{"v": 1, rules: []}'))).toBe('invalid');
    expect(await authoritative(dirWith('latin1', Buffer.from([0x7b, 0xe9, 0x7d])))).toBe('invalid');
    mkdirSync(join(dirWith('directory'), 'limits.json'), { recursive: true });
    expect(await authoritative(dirWith('directory'))).toBe('invalid');
    const huge = `{"v":1,"rules":[],"pad":"${'x'.repeat(MaxLimitsBytes)}"}`;
    expect(await authoritative(dirWith('huge', huge))).toBe('invalid');
    expect(lines.map((l) => l['reason'])).toEqual([
      'not a valid LimitsConfig',
      expect.stringMatching(/^not JSON: /),
      'not UTF-8 text',
      'not a regular file',
      `${huge.length} bytes; at most ${MaxLimitsBytes} are accepted`,
    ]);
    expect(await store.get()).toEqual(first);

    const one = { v: 1, rules: [limits.rules[0]] };
    expect(await authoritative(dirWith('changed', JSON.stringify(one)))).toBe('stored');
    expect((await store.get()).config.rules.map((r) => r.id)).toEqual(['agent-rate']);
  });

  it('in seed mode stores a file only when no limits are stored; none is bundled', async () => {
    const store = await LimitsStore.open(nc, isolated[1]!.bucket);
    const seed = (dir: string) => applyLimitsFile(store, { dir, mode: 'seed' }, log);
    expect(await seed(BundledPolicyDir)).toBe('absent');
    expect(await seed(dirWith('seed', JSON.stringify(limits)))).toBe('stored');
    const one = { v: 1, rules: [limits.rules[1]] };
    expect(await seed(dirWith('seed-other', JSON.stringify(one)))).toBe('unchanged');
    expect((await store.get()).config.rules).toHaveLength(2);
  });
});

describe('a replica with MESHGATE_POLICY_DIR', () => {
  it('stores the limits of its directory as the LimitsConfig routers read', async () => {
    const iso = isolated[2]!;
    const dir = dirWith('replica', JSON.stringify(limits));
    writeFileSync(join(dir, 'platform.cedar'), 'permit (principal, action, resource);');
    const replica = await start(configFor(iso, { MESHGATE_POLICY_DIR: dir }));
    try {
      const entry = await (await openPolicyBucket(nc, iso.bucket)).get(LimitsKey);
      expect(entry?.operation).toBe('PUT');
      const value: unknown = JSON.parse(new TextDecoder().decode(entry?.value));
      expect(LimitsConfig.parse(value)).toEqual(LimitsConfig.parse(limits));
    } finally {
      await replica.stop();
    }
  });
});
