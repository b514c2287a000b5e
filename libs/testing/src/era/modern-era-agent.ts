/**
 * The 2026-07-28 agent: an SDK v2 `Client` (`@modelcontextprotocol/client`) pinned to that revision,
 * so it connects with `server/discover` (no initialize) and fails loudly when the endpoint does not offer
 * 2026-07-28. It answers the embedded requests of `input_required` results through its sampling and
 * elicitation handlers and retries, as a modern client does. Its results are parsed with the SDK v1
 * schemas (loose, so modern fields such as `resultType` stay) to give every era one shape.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import {
  CallToolResultSchema,
  GetPromptResultSchema,
  ListToolsResultSchema,
  ReadResourceResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { connectWithin } from './bounded';
import type { EraAgent } from './era-agent';
import { MODERN_ERA } from './matrix-eras';
import { MATRIX_FORM_ANSWER, samplingAnswer } from './matrix-fixture-spec';
import { ProgressLog } from './progress-log';
import { lastSampledText } from './session-era-agent';

function createClient(progress: ProgressLog): Client {
  const client = new Client(
    { name: `meshgate-era-agent-${MODERN_ERA}`, version: '1.0.0' },
    {
      capabilities: { sampling: {}, elicitation: { form: {} } },
      versionNegotiation: { mode: { pin: MODERN_ERA } },
    },
  );
  client.setRequestHandler('sampling/createMessage', (request) => ({
    role: 'assistant',
    model: `era-agent-${MODERN_ERA}`,
    stopReason: 'endTurn',
    content: { type: 'text', text: samplingAnswer(MODERN_ERA, lastSampledText(request.params.messages)) },
  }));
  client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: MATRIX_FORM_ANSWER }));
  // Replaces the SDK's own progress dispatch, which only knows the tokens it minted itself.
  client.setNotificationHandler('notifications/progress', (notification) =>
    progress.record(notification.params),
  );
  return client;
}

/** Connects the 2026-07-28 agent to the Streamable HTTP endpoint `url`; see the file header. */
export async function connectModernEraAgent(url: string, timeoutMs: number): Promise<EraAgent> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const progress = new ProgressLog();
  const client = createClient(progress);
  const options = { timeout: timeoutMs };
  await connectWithin(
    () => client.connect(transport, options),
    () => client.close(),
    timeoutMs,
  );
  return {
    era: MODERN_ERA,
    negotiatedVersion: client.getNegotiatedProtocolVersion(),
    listTools: async () =>
      ListToolsResultSchema.parse(await client.listTools(undefined, { ...options, cacheMode: 'refresh' }))
        .tools,
    callTool: async (name, args, progressToken) =>
      CallToolResultSchema.parse(
        await client.callTool(
          { name, arguments: args, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) },
          options,
        ),
      ),
    readResource: async (uri) =>
      ReadResourceResultSchema.parse(
        await client.readResource({ uri }, { ...options, cacheMode: 'refresh' }),
      ),
    getPrompt: async (name, args) =>
      GetPromptResultSchema.parse(await client.getPrompt({ name, arguments: args }, options)),
    progressFor: (token) => progress.valuesFor(token),
    close: () => client.close(),
  };
}
