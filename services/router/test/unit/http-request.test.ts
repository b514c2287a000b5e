import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpRequest } from '../../src/upstream/http-request';

describe('httpRequest', () => {
  let server: Server;
  let url: string;
  const sockets = new Set<unknown>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket);
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('keeps the connection alive when a signal aborts after the whole answer arrived', async () => {
    sockets.clear();
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const res = await httpRequest(`${url}/json`, {
        method: 'POST',
        headers: {},
        body: '{}',
        signals: [controller.signal],
      });
      expect(await res.text()).toBe('{"ok":true}');
      controller.abort(new Error('settled'));
    }
    expect(sockets.size).toBe(1);
  });

  it('ends a streaming answer when a signal aborts mid-body, without an uncaught error', async () => {
    const controller = new AbortController();
    const res = await httpRequest(`${url}/slow`, {
      method: 'GET',
      headers: {},
      signals: [controller.signal],
    });
    const chunks: string[] = [];
    const reading = (async () => {
      for await (const chunk of res.body) {
        chunks.push(String(chunk));
        controller.abort();
      }
    })();
    await expect(reading).rejects.toThrow(/aborted/);
    expect(chunks.join('')).toContain('first');
  });

  it('refuses at once when a signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      httpRequest(`${url}/json`, { method: 'GET', headers: {}, signals: [undefined, controller.signal] }),
    ).rejects.toThrow(/aborted/);
  });
});
