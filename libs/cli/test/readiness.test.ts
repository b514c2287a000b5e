import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Bus, serve } from '@meshgate/bus';
import { freePort } from '@meshgate/testing';
import {
  httpReady,
  natsAnswers,
  natsServiceReady,
  NotReady,
  portFree,
  waitUntil,
} from '../src/start/readiness';

const natsUrl = process.env['NATS_URL']!;

describe('waitUntil', () => {
  it('resolves once the check passes', async () => {
    let calls = 0;
    await waitUntil(async () => ++calls === 3, {
      what: 'x',
      timeoutMs: 2000,
      intervalMs: 10,
      giveUp: () => null,
    });
    expect(calls).toBe(3);
  });

  it('gives up after the timeout, or at once when told why', async () => {
    const never = async () => false;
    await expect(
      waitUntil(never, { what: 'router', timeoutMs: 100, intervalMs: 10, giveUp: () => null }),
    ).rejects.toThrow(new NotReady('router: not ready within 0.1 s'));
    const started = Date.now();
    await expect(
      waitUntil(never, { what: 'router', timeoutMs: 5000, giveUp: () => 'exited before it was ready' }),
    ).rejects.toThrow('router: exited before it was ready');
    expect(Date.now() - started).toBeLessThan(100);
  });
});

describe('probes', () => {
  let ready = false;
  const server = createServer((_req, res) => res.writeHead(ready ? 200 : 503).end());
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('httpReady follows the readiness status and survives a dead address', async () => {
    expect(await httpReady(url)).toBe(false);
    ready = true;
    expect(await httpReady(url)).toBe(true);
    expect(await httpReady(`http://127.0.0.1:${await freePort()}/readyz`)).toBe(false);
  });

  it('portFree tells a taken port from a free one', async () => {
    const { port } = server.address() as AddressInfo;
    expect(await portFree('127.0.0.1', port)).toBe(false);
    expect(await portFree('127.0.0.1', await freePort())).toBe(true);
  });

  it('natsAnswers tells a NATS server from an empty port', async () => {
    expect(await natsAnswers(natsUrl)).toBe(true);
    expect(await natsAnswers(`nats://127.0.0.1:${await freePort()}`, 300)).toBe(false);
  });

  it('natsServiceReady sees a NATS service only while it runs', async () => {
    const bus = await Bus.connect({ url: natsUrl, name: 'cli-readiness-test' });
    const name = `meshgate-cli-test-${process.pid}`;
    try {
      expect(await natsServiceReady(bus, name, 300)).toBe(false);
      const service = await serve(bus, { name, version: '0.1.0', description: 'readiness test' }, [
        {
          name: 'echo',
          subject: `mg.v1.clitest.${process.pid}`,
          queue: 'q',
          request: z.unknown(),
          handler: async (p) => p,
        },
      ]);
      expect(await natsServiceReady(bus, name, 1000)).toBe(true);
      await service.stop();
      expect(await natsServiceReady(bus, name, 300)).toBe(false);
    } finally {
      await bus.close();
    }
  });
});
