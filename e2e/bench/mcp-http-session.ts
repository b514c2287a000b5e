/**
 * The load generator's MCP client: raw JSON-RPC over Node's keep-alive `http.request`, no SDK client, so the
 * client costs as little as possible and the same bytes go to every target. Answers may come as
 * `application/json` or as a `text/event-stream` that ends after the response (mcp-proxy answers that way).
 */
import { request, type Agent } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

const MAX_ANSWER_BYTES = 1024 * 1024;

interface HttpAnswer {
  status: number;
  contentType: string;
  sessionId: string | undefined;
  body: string;
}

/** The JSON-RPC messages carried by a complete SSE body, in order (events with empty data, such as a
 * resumability priming event, are skipped). */
export function parseSseMessages(body: string): unknown[] {
  const messages: unknown[] = [];
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
    const text = data.join('\n');
    if (text.trim() !== '') messages.push(JSON.parse(text));
  }
  return messages;
}

function post(url: URL, agent: Agent, headers: Record<string, string>, payload: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: {
        ...headers,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'content-length': Buffer.byteLength(payload),
      },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`answer from ${url.href} exceeds ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.once('error', reject);
      res.once('end', () => {
        const sid = res.headers['mcp-session-id'];
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          sessionId: typeof sid === 'string' ? sid : undefined,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(payload);
  });
}

function responseFor(answer: HttpAnswer, id: number, what: string): Record<string, unknown> {
  if (answer.status !== 200) throw new Error(`${what}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  const messages = answer.contentType.includes('text/event-stream') ? parseSseMessages(answer.body) : [JSON.parse(answer.body)];
  const response = messages.find((m): m is Record<string, unknown> => typeof m === 'object' && m !== null && 'id' in m && m.id === id);
  if (!response) throw new Error(`${what}: no response with id ${id} in ${answer.body.slice(0, 300)}`);
  if ('error' in response) throw new Error(`${what}: JSON-RPC error ${JSON.stringify(response['error'])}`);
  return response;
}

/** One MCP session over Streamable HTTP; `callTool` runs one tools/call and checks the echoed text. */
export class McpHttpSession {
  private nextId = 2;

  private constructor(
    private readonly url: URL,
    private readonly agent: Agent,
    private readonly headers: Record<string, string>,
  ) {}

  /** Runs initialize and notifications/initialized; all later requests reuse `agent`'s connections. */
  static async open(endpoint: string, agent: Agent): Promise<McpHttpSession> {
    const url = new URL(endpoint);
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'meshgate-bench', version: '1.0.0' } },
    };
    const answer = await post(url, agent, {}, JSON.stringify(init));
    const result = responseFor(answer, 1, `initialize ${endpoint}`)['result'] as { protocolVersion?: unknown } | undefined;
    if (!answer.sessionId) throw new Error(`initialize ${endpoint}: no Mcp-Session-Id header`);
    const version = typeof result?.protocolVersion === 'string' ? result.protocolVersion : LATEST_PROTOCOL_VERSION;
    const headers = { 'mcp-session-id': answer.sessionId, 'mcp-protocol-version': version };
    const ack = await post(url, agent, headers, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    if (ack.status !== 202 && ack.status !== 200) throw new Error(`notifications/initialized ${endpoint}: HTTP ${ack.status}`);
    return new McpHttpSession(url, agent, headers);
  }

  /** Calls `tool` with `{ text }` and fails unless the first content item echoes `text` back. */
  async callTool(tool: string, text: string): Promise<void> {
    const id = this.nextId++;
    const payload = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { text } } });
    const answer = await post(this.url, this.agent, this.headers, payload);
    const result = responseFor(answer, id, `tools/call ${tool}`)['result'] as { content?: { text?: unknown }[]; isError?: unknown };
    if (result.isError === true || result.content?.[0]?.text !== text) {
      throw new Error(`tools/call ${tool}: unexpected result ${JSON.stringify(result).slice(0, 300)}`);
    }
  }
}
