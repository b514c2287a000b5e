/**
 * Reads a `text/event-stream` body (eventsource-parser) for the two HTTP transports: each event is handed
 * over as it arrives; the last event id and the server's `retry` hint are kept for resuming the stream.
 */
import type { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** What is left after a stream ended: where to resume it and how long the server asked to wait first. */
export interface StreamEnd {
  lastEventId: string | undefined;
  retryMs: number | undefined;
}

/** Longest event the reader buffers; a larger one is a hostile or broken upstream. */
const MaxEventBytes = 32 * 1024 * 1024;

/** Reads `body` to its end (or until `signal` aborts), calling `onEvent` for every event. */
export async function readEventStream(
  body: Readable,
  onEvent: (event: EventSourceMessage) => void,
  signal?: AbortSignal,
): Promise<StreamEnd> {
  const end: StreamEnd = { lastEventId: undefined, retryMs: undefined };
  let failure: Error | undefined;
  const parser = createParser({
    maxBufferSize: MaxEventBytes,
    onEvent: (event) => {
      if (event.id !== undefined) end.lastEventId = event.id;
      onEvent(event);
    },
    onRetry: (ms) => {
      end.retryMs = ms;
    },
    onError: (err) => {
      if (err.type === 'max-buffer-size-exceeded') failure = err;
    },
  });
  const decoder = new TextDecoder();
  const abort = () => body.destroy();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (failure) throw failure;
    }
  } catch (err) {
    body.destroy();
    throw err;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  return end;
}
