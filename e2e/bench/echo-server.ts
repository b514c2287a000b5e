/**
 * The benchmark's upstream: a minimal MCP server (SDK v1 low-level `Server`) with one `echo` tool that
 * returns a small text. Run it as its own process, over stdio (`--stdio`) or over stateful Streamable HTTP
 * with JSON responses (`--http --port <n>`), so every path of the benchmark fronts the very same server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

const MAX_BODY_BYTES = 64 * 1024;

/** One MCP server instance with the `echo` tool; HTTP mode makes one per session, as the SDK requires. */
function echoServer(): Server {
  const server = new Server({ name: 'meshgate-bench-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      {
        name: 'echo',
        description: 'Returns its text argument.',
        inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    if (request.params.name !== 'echo') {
      return { content: [{ type: 'text', text: `unknown tool: ${request.params.name}` }], isError: true };
    }
    const text = request.params.arguments?.['text'];
    return { content: [{ type: 'text', text: typeof text === 'string' ? text : '' }] };
  });
  return server;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }));
}

/** Serves stateful Streamable HTTP on `/mcp`: one transport and one `Server` per session id. */
function serveHttp(port: number): void {
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') return jsonRpcError(res, 404, -32600, 'not found');
    const sid = req.headers['mcp-session-id'];
    const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (req.method !== 'POST') {
      if (!existing) return jsonRpcError(res, 404, -32001, 'unknown session');
      return existing.handleRequest(req, res);
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      return jsonRpcError(res, 400, -32700, `parse error: ${(error as Error).message}`);
    }
    if (existing) return existing.handleRequest(req, res, body);
    if (sid !== undefined) return jsonRpcError(res, 404, -32001, 'unknown session');
    if (!isInitializeRequest(body)) return jsonRpcError(res, 400, -32600, 'first request of a session must be initialize');
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => void sessions.set(id, transport),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    await echoServer().connect(transport);
    await transport.handleRequest(req, res, body);
  };

  createServer((req, res) => {
    handle(req, res).catch((error: unknown) => jsonRpcError(res, 500, -32603, (error as Error).message));
  }).listen(port, '127.0.0.1');
}

const { values } = parseArgs({
  options: { stdio: { type: 'boolean', default: false }, http: { type: 'boolean', default: false }, port: { type: 'string' } },
});
const port = Number(values.port);
if (values.stdio === values.http) {
  console.error('usage: echo-server.ts --stdio | --http --port <n>');
  process.exit(2);
} else if (values.stdio) {
  await echoServer().connect(new StdioServerTransport());
} else if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`echo-server: --port must be an integer 1-65535, got ${String(values.port)}`);
  process.exit(2);
} else {
  serveHttp(port);
}
