/**
 * A minimal SSE reader for tests: opens the stream with node:http (closing destroys the socket, as a
 * client that goes away does), parses it with eventsource-parser, and lets a test wait (bounded) for the
 * next event.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseClient {
  status: number;
  contentType: string | undefined;
  /** Waits for the next event (not comments) within `timeoutMs`. */
  nextEvent(timeoutMs?: number): Promise<EventSourceMessage>;
  comments: string[];
  close(): void;
}

/** Connects to `url`; resolves once the response headers are in. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const parser = createParser({
    onEvent: (e) => void events.push(e),
    onComment: (c) => void comments.push(c),
  });
  let req: ClientRequest | undefined;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, resolve);
    req.once('error', reject);
    req.end();
  });
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => parser.feed(chunk));
  res.on('error', () => undefined);
  return {
    status: res.statusCode ?? 0,
    contentType: res.headers['content-type'],
    comments,
    async nextEvent(timeoutMs = 5_000) {
      const end = Date.now() + timeoutMs;
      while (events.length === 0) {
        if (Date.now() > end) throw new Error('no SSE event in time');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return events.shift()!;
    },
    close: () => void req?.destroy(),
  };
}
