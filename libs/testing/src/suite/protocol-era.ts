/**
 * The protocol eras the feature suite runs in, and the transport wrapper that makes an SDK v1 client ask
 * for one of them: the client always asks for its latest version in `initialize`, so the wrapper rewrites
 * `params.protocolVersion` of that request on its way out and records the version the server answered.
 */
import { z } from 'zod';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type ClientCapabilities,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

/** A protocol version the suite tests; tests of features an era lacks are not registered for it. */
export const Era = z.enum(['2025-06-18', '2025-11-25']);
export type Era = z.infer<typeof Era>;

/** Every era, oldest first. */
export const ERAS: readonly Era[] = Era.options;

/** The newest era, the one the SDK client asks for by itself. */
export const LATEST_ERA: Era = '2025-11-25';

/**
 * What the probe declares as a client in each era: 2025-06-18 knows only form elicitation (an empty
 * `elicitation` object), 2025-11-25 declares the form and URL modes.
 */
export const PROBE_CAPABILITIES: Readonly<Record<Era, ClientCapabilities>> = {
  '2025-06-18': { sampling: {}, elicitation: {}, roots: { listChanged: true } },
  '2025-11-25': { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } },
};

/** Versions a client can also be pinned to, older than every era of the suite (tests of old agents). */
export type OlderVersion = '2024-11-05' | '2025-03-26';

/**
 * Makes `transport` ask for `era` in initialize. Call it before `client.connect(transport)`: the SDK
 * chains the `onmessage` already set on a transport, which is how the answer is seen. Returns a function
 * that tells the `protocolVersion` of the initialize result (undefined until it arrived).
 */
export function pinProtocolVersion(transport: Transport, era: Era | OlderVersion): () => string | undefined {
  let initializeId: RequestId | undefined;
  let answered: string | undefined;
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (!isJSONRPCRequest(message) || message.method !== 'initialize') return send(message, options);
    initializeId = message.id;
    return send({ ...message, params: { ...message.params, protocolVersion: era } }, options);
  };
  const previous = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (initializeId !== undefined && isJSONRPCResultResponse(message) && message.id === initializeId) {
      const version = message.result['protocolVersion'];
      answered = typeof version === 'string' ? version : undefined;
    }
    previous?.(message, extra);
  };
  return () => answered;
}
