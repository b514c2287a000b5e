/**
 * The agents of the initialize eras (2024-11-05 .. 2025-11-25): an SDK v1 `Client` pinned to its era
 * with `pinProtocolVersion`, over legacy HTTP+SSE for 2024-11-05 and Streamable HTTP otherwise. It
 * declares what its era's clients can declare (form elicitation only from 2025-06-18) and refuses to go
 * on when the endpoint answers initialize with another version.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ProgressNotificationSchema,
  type ClientCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { pinProtocolVersion } from '../suite/protocol-era';
import { connectWithin } from './bounded';
import type { EraAgent } from './era-agent';
import { ProgressLog } from './progress-log';
import { hasElicitation, usesLegacySse, type InitializeEra } from './matrix-eras';
import { MATRIX_FORM_ANSWER, samplingAnswer } from './matrix-fixture-spec';

/** What a client of `era` declares: sampling always, form elicitation from 2025-06-18 (explicit in 2025-11-25). */
function capabilitiesOf(era: InitializeEra): ClientCapabilities {
  if (!hasElicitation(era)) return { sampling: {} };
  return era === '2025-06-18'
    ? { sampling: {}, elicitation: {} }
    : { sampling: {}, elicitation: { form: {} } };
}

/** The text of the last message of a sampling request, or '' when it is not text. */
export function lastSampledText(messages: readonly { content: unknown }[]): string {
  const content = messages.at(-1)?.content;
  const block = Array.isArray(content) ? content.at(-1) : content;
  if (typeof block !== 'object' || block === null) return '';
  const text = (block as Record<string, unknown>)['text'];
  return typeof text === 'string' ? text : '';
}

function createClient(era: InitializeEra, progress: ProgressLog): Client {
  const client = new Client(
    { name: `meshgate-era-agent-${era}`, version: '1.0.0' },
    { capabilities: capabilitiesOf(era) },
  );
  client.setRequestHandler(CreateMessageRequestSchema, (request) => ({
    role: 'assistant',
    model: `era-agent-${era}`,
    stopReason: 'endTurn',
    content: { type: 'text', text: samplingAnswer(era, lastSampledText(request.params.messages)) },
  }));
  if (hasElicitation(era))
    client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: MATRIX_FORM_ANSWER }));
  // Replaces the SDK's own progress dispatch, which only knows the tokens it minted itself.
  client.setNotificationHandler(ProgressNotificationSchema, (notification) =>
    progress.record(notification.params),
  );
  return client;
}

/** Connects an SDK v1 agent of `era` to `url`; see the file header. */
export async function connectSessionEraAgent(
  era: InitializeEra,
  url: string,
  timeoutMs: number,
): Promise<EraAgent> {
  const transport: Transport = usesLegacySse(era)
    ? new SSEClientTransport(new URL(url))
    : new StreamableHTTPClientTransport(new URL(url));
  const answered = pinProtocolVersion(transport, era);
  const progress = new ProgressLog();
  const client = createClient(era, progress);
  const options = { timeout: timeoutMs };
  await connectWithin(
    () => client.connect(transport, options),
    () => client.close(),
    timeoutMs,
  );
  return {
    era,
    negotiatedVersion: answered(),
    listTools: async () => (await client.listTools(undefined, options)).tools,
    callTool: async (name, args, progressToken) =>
      CallToolResultSchema.parse(
        await client.callTool(
          { name, arguments: args, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) },
          CallToolResultSchema,
          options,
        ),
      ),
    readResource: (uri) => client.readResource({ uri }, options),
    getPrompt: (name, args) => client.getPrompt({ name, arguments: args }, options),
    progressFor: (token) => progress.valuesFor(token),
    close: async () => {
      if (transport instanceof StreamableHTTPClientTransport)
        await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}
