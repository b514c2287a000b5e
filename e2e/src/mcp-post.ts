/**
 * Raw JSON-RPC POSTs to an MCP endpoint over Node's keep-alive `http.request` (no SDK client, so thousands of
 * calls stay cheap and the same bytes go to every target), as the bench's load generator and the audit chaos
 * test's callers send them. Answers may be `application/json` or a `text/event-stream` that ends after the
 * response; bodies are bounded.
 */
import { request, type Agent } from 'node:http';

const MAX_ANSWER_BYTES = 1024 * 1024;

/** A complete HTTP answer. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  sessionId: string | undefined;
  body: string;
}

/** POSTs `payload`; `timeoutMs` (optional) ends a request that gets no answer. */
export function postJsonRpc(
  url: URL,
  agent: Agent,
  headers: Record<string, string>,
  payload: string,
  timeoutMs?: number,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
      headers: {
        ...headers,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'content-length': Buffer.byteLength(payload),
      },
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES)
          res.destroy(new Error(`answer from ${url.href} exceeds ${MAX_ANSWER_BYTES} bytes`));
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

/**
 * The JSON-RPC messages carried by a complete SSE body, in order (events with empty data, such as a
 * resumability priming event, are skipped).
 */
export function parseSseMessages(body: string): unknown[] {
  const messages: unknown[] = [];
  for (const event of body.split(/\r?\n\r?\n/)) {
    const text = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
      .join('\n');
    if (text.trim() !== '') messages.push(JSON.parse(text));
  }
  return messages;
}

/** The JSON-RPC messages of an answer: its JSON body, or the data of each SSE event. */
export function messagesOf(answer: HttpAnswer): unknown[] {
  return answer.contentType.includes('text/event-stream')
    ? parseSseMessages(answer.body)
    : [JSON.parse(answer.body)];
}
