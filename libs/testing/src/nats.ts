/**
 * A real NATS for tests, chosen in this order: NATS_URL if set; a testcontainers NATS where a Docker engine
 * answers; the local server on 127.0.0.1:4222; a `nats-server` spawned on a free loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer } from 'node:net';

export interface TestNats {
  url: string;
  source: 'env' | 'testcontainers' | 'local' | 'spawned';
  stop(): Promise<void>;
}

/** True when a TCP connection to host:port opens within `timeoutMs`. */
export function tcpAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function dockerAnswers(): Promise<boolean> {
  if (process.env['TESTCONTAINERS_DISABLED'] === '1') return false;
  if (existsSync('/var/run/docker.sock')) return tcpSocketAnswers('/var/run/docker.sock');
  return false;
}

function tcpSocketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ path });
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The nats-server to spawn: NATS_SERVER_BIN, else the one on PATH, else Debian's /usr/sbin one. */
export function natsServerBinary(): string {
  const explicit = process.env['NATS_SERVER_BIN'];
  if (explicit) return explicit;
  const onPath = (process.env['PATH'] ?? '')
    .split(':')
    .filter((dir) => dir.length > 0)
    .some((dir) => existsSync(join(dir, 'nats-server')));
  return onPath || !existsSync('/usr/sbin/nats-server') ? 'nats-server' : '/usr/sbin/nats-server';
}

/** A NATS server process with JetStream in a temporary directory, on a free loopback port. */
export interface SpawnedNats {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function spawnNats(opts: { port?: number; storeDir?: string; args?: string[] } = {}): Promise<SpawnedNats> {
  const port = opts.port ?? (await freePort());
  const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), 'mg-nats-'));
  const bin = natsServerBinary();
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...(opts.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const started = Date.now();
  while (!(await tcpAnswers('127.0.0.1', port, 200))) {
    if (spawnError) throw new Error(`cannot run ${bin}: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
    if (Date.now() - started > 10_000) {
      child.kill('SIGKILL');
      throw new Error('nats-server did not start within 10 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (!opts.storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** Provides the NATS the whole test run uses. */
export async function provideNats(): Promise<TestNats> {
  const fromEnv = process.env['NATS_URL'];
  if (fromEnv) return { url: fromEnv, source: 'env', stop: async () => {} };
  if (await dockerAnswers()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('nats:2.12-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    return {
      url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
      source: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  }
  if (await tcpAnswers('127.0.0.1', 4222)) return { url: 'nats://127.0.0.1:4222', source: 'local', stop: async () => {} };
  const spawned = await spawnNats();
  return { url: spawned.url, source: 'spawned', stop: () => spawned.stop() };
}
