import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@meshgate/testing';
import {
  ensureNats,
  findExecutable,
  installHint,
  isRoutineNatsLine,
  NatsUnavailable,
} from '../src/start/nats';
import { natsAnswers } from '../src/start/readiness';
import { startConfig } from '../src/start/start-config';

const repoRoot = mkdtempSync(join(tmpdir(), 'mg-cli-nats-'));
afterAll(() => rmSync(repoRoot, { recursive: true, force: true }));

function options(natsUrl: string, said: string[] = []) {
  return {
    config: startConfig({ NATS_URL: natsUrl }, '/'),
    repoRoot,
    say: (l: string) => said.push(l),
    onLine: () => {},
    giveUp: () => null,
  };
}

describe('ensureNats', () => {
  it('uses a NATS that already answers and starts nothing', async () => {
    const said: string[] = [];
    expect(await ensureNats(options(process.env['NATS_URL']!, said))).toBeNull();
    expect(said).toEqual([`NATS answers at ${process.env['NATS_URL']}`]);
  });

  it('starts nats-server with JetStream on the port of a local NATS_URL, and stops it', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const child = await ensureNats(options(url));
    expect(child).not.toBeNull();
    let stopped;
    try {
      expect(await natsAnswers(url)).toBe(true);
      expect(existsSync(join(repoRoot, '.meshgate', 'nats', 'jetstream'))).toBe(true);
    } finally {
      stopped = await child!.stop(5000);
    }
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(await natsAnswers(url, 300)).toBe(false);
  });

  it('never starts NATS for a remote URL', async () => {
    // The probe is replaced so that the test sends nothing beyond loopback.
    const probed: string[] = [];
    const remote = {
      ...options('nats://nats.example:4222'),
      answers: async (url: string) => (probed.push(url), false),
    };
    await expect(ensureNats(remote)).rejects.toThrow('meshgate starts NATS only on this machine');
    expect(probed).toEqual(['nats://nats.example:4222']);
  });

  it('says how to install nats-server when it is missing', async () => {
    const saved = { bin: process.env['NATS_SERVER_BIN'] };
    process.env['NATS_SERVER_BIN'] = '/nonexistent/nats-server';
    try {
      const err = await ensureNats(options(`nats://127.0.0.1:${await freePort()}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NatsUnavailable);
      expect((err as Error).message).toMatch(
        /nats-server: exited \(could not start: spawn \/nonexistent\/nats-server ENOENT\)/,
      );
    } finally {
      if (saved.bin === undefined) delete process.env['NATS_SERVER_BIN'];
      else process.env['NATS_SERVER_BIN'] = saved.bin;
    }
  });
});

describe('finding and installing nats-server', () => {
  it('finds executables on PATH or in the system directories only', () => {
    expect(findExecutable('node', process.env['PATH'])).not.toBeNull();
    expect(findExecutable('node', '', [])).toBeNull();
    expect(findExecutable('sh', '', ['/bin', '/usr/bin'])).toMatch(/\/sh$/);
    expect(findExecutable('no-such-binary-meshgate', process.env['PATH'])).toBeNull();
  });

  it('hides only the informational lines of nats-server', () => {
    expect(isRoutineNatsLine('[22280] 2026/11/24 03:25:33.930428 [INF] Starting nats-server')).toBe(true);
    expect(isRoutineNatsLine('[22280] 2026/11/24 03:25:33.930428 [WRN] Plaintext passwords detected')).toBe(
      false,
    );
    expect(isRoutineNatsLine('[22280] 2026/11/24 03:25:33.930428 [ERR] Error listening on port: 4222')).toBe(
      false,
    );
    expect(isRoutineNatsLine('nats-server: /etc/nats.conf:3:1: unknown field')).toBe(false);
  });

  it('gives the one install command for Debian and Ubuntu, and the docs elsewhere', () => {
    expect(installHint(true, true)).toBe('Install it with:\n  apt-get install -y nats-server');
    expect(installHint(true, false)).toContain('sudo apt-get install -y nats-server');
    expect(installHint(false, false)).toContain('https://docs.nats.io');
  });
});
