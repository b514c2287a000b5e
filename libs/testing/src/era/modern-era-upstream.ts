/**
 * `startModernEraUpstream`: the 2026-07-28 era fixture served by the SDK v2 `createMcpHandler` with
 * `legacy: 'reject'`, so it speaks the modern era only (an initialize or any other 2025-era request gets
 * the unsupported-protocol-version error), on 127.0.0.1 path `/mcp`. The handler is fetch-shaped; this
 * file bridges Node's HTTP server to it: a bounded body, an abort when the client goes away, and the
 * answer streamed back as it comes (SSE included).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createMcpHandler } from '@modelcontextprotocol/server';
import {
  closeListener,
  listenOnLoopback,
  MAX_BODY_BYTES,
  sendFailure,
  sendJsonRpcError,
} from '../fixtures/http-json';
import { HttpInputError } from '../fixtures/http-json';
import { createModernEraServer } from './modern-era-server';
import { MODERN_ERA } from './matrix-eras';
import type { EraUpstream } from './era-upstream';

/** The raw body of `req`; throws {@link HttpInputError} when it is larger than the fixtures accept. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpInputError(413, -32600, `Request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The web `Request` for `req`, aborted when the client closes its connection. */
async function webRequest(req: IncomingMessage, res: ServerResponse, origin: string): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const aborted = new AbortController();
  res.once('close', () => aborted.abort());
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
  return new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    signal: aborted.signal,
    ...(body === undefined ? {} : { body }),
  });
}

/** Writes `response` to `res`, streaming its body. */
async function sendWebResponse(response: Response, res: ServerResponse): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), res);
}

/** Starts the 2026-07-28 era fixture; see the file header. */
export async function startModernEraUpstream(): Promise<EraUpstream> {
  const handler = createMcpHandler(() => createModernEraServer(), {
    legacy: 'reject',
    onerror: () => undefined,
  });
  let origin = 'http://127.0.0.1';
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', origin).pathname !== '/mcp')
      return sendJsonRpcError(res, 404, -32600, 'Not found: use /mcp');
    const response = await handler.fetch(await webRequest(req, res, origin));
    await sendWebResponse(response, res);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendFailure(res, error));
  });
  const port = await listenOnLoopback(http, 0);
  origin = `http://127.0.0.1:${port}`;
  return {
    era: MODERN_ERA,
    url: `${origin}/mcp`,
    transport: 'http',
    async close() {
      await handler.close();
      await closeListener(http);
    },
  };
}
