/**
 * The load generator's MCP client: raw JSON-RPC over Node's keep-alive `http.request`, no SDK client, so the
 * client costs as little as possible and the same bytes go to every target. Answers may come as
 * `application/json` or as a `text/event-stream` that ends after the response (mcp-proxy answers that way).
 */
import type { Agent } from 'node:http';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { messagesOf, postJsonRpc, type HttpAnswer } from '../src/mcp-post';

function responseFor(answer: HttpAnswer, id: number, what: string): Record<string, unknown> {
  if (answer.status !== 200) throw new Error(`${what}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  const messages = messagesOf(answer);
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

  /**
   * Runs initialize and notifications/initialized; all later requests reuse `agent`'s connections. Every
   * request carries `authHeaders` (e.g. `authorization` with the bench agent's API key; none by default).
   */
  static async open(endpoint: string, agent: Agent, authHeaders: Record<string, string> = {}): Promise<McpHttpSession> {
    const url = new URL(endpoint);
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'meshgate-bench', version: '1.0.0' } },
    };
    const answer = await postJsonRpc(url, agent, authHeaders, JSON.stringify(init));
    const result = responseFor(answer, 1, `initialize ${endpoint}`)['result'] as { protocolVersion?: unknown } | undefined;
    if (!answer.sessionId) throw new Error(`initialize ${endpoint}: no Mcp-Session-Id header`);
    const version = typeof result?.protocolVersion === 'string' ? result.protocolVersion : LATEST_PROTOCOL_VERSION;
    const headers = { ...authHeaders, 'mcp-session-id': answer.sessionId, 'mcp-protocol-version': version };
    const ack = await postJsonRpc(url, agent, headers, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    if (ack.status !== 202 && ack.status !== 200) throw new Error(`notifications/initialized ${endpoint}: HTTP ${ack.status}`);
    return new McpHttpSession(url, agent, headers);
  }

  /** Calls `tool` with `{ text }` and fails unless the first content item echoes `text` back. */
  async callTool(tool: string, text: string): Promise<void> {
    const id = this.nextId++;
    const payload = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { text } } });
    const answer = await postJsonRpc(this.url, this.agent, this.headers, payload);
    const result = responseFor(answer, id, `tools/call ${tool}`)['result'] as { content?: { text?: unknown }[]; isError?: unknown };
    if (result.isError === true || result.content?.[0]?.text !== text) {
      throw new Error(`tools/call ${tool}: unexpected result ${JSON.stringify(result).slice(0, 300)}`);
    }
  }
}
