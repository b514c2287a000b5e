/**
 * `createModernEraServer`: the 2026-07-28 era fixture as an SDK v2 `McpServer` (one per request, as
 * `createMcpHandler` builds them). It offers what the other era fixtures offer, in this era's own terms:
 * `add` with an output schema, `progress` on the request's own token, and `elicit` and `sample`, which
 * obtain the client's input through `input_required` results (multi round trip) instead of requests to
 * the client. The resource and the prompt are the feature fixture's.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { McpServer, inputRequired, inputResponse, type CallToolResult } from '@modelcontextprotocol/server';
import { getPrompt } from '../fixtures/feature-prompts';
import { MODERN_ERA } from './matrix-eras';
import {
  MATRIX_FORM,
  MATRIX_PROMPT,
  MATRIX_RESOURCE_TEXT,
  MATRIX_RESOURCE_URI,
  MATRIX_TOOLS,
} from './matrix-fixture-spec';

/** The key of the one input request each interactive tool makes. */
const FORM_KEY = 'form';
const SAMPLE_KEY = 'sample';

/** A result with `value` as structured content and as JSON text. */
function structured(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

function registerTools(server: McpServer): void {
  server.registerTool(
    MATRIX_TOOLS.structured,
    {
      title: 'Add',
      description: 'Adds two numbers; answers with structured content and the same JSON as text.',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number() }),
    },
    ({ a, b }) => structured({ sum: a + b }),
  );

  server.registerTool(
    MATRIX_TOOLS.progress,
    {
      title: 'Progress',
      description: "Sends `steps` progress notifications on the request's progressToken.",
      inputSchema: z.object({
        steps: z.number().int().min(1).max(100).default(3),
        intervalMs: z.number().int().min(0).max(2000).default(10),
      }),
    },
    async ({ steps, intervalMs }, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      if (progressToken === undefined)
        return {
          content: [{ type: 'text', text: 'no progressToken in the request: sent 0 progress notifications' }],
        };
      for (let step = 1; step <= steps; step += 1) {
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken, progress: step, total: steps, message: `step ${step} of ${steps}` },
        });
        if (intervalMs > 0 && step < steps) await delay(intervalMs, undefined, { signal: ctx.mcpReq.signal });
      }
      return { content: [{ type: 'text', text: `sent ${steps} progress notifications` }] };
    },
  );

  server.registerTool(
    MATRIX_TOOLS.elicitation,
    {
      title: 'Elicit',
      description: 'Asks the client to fill a small form (input_required); returns the action and content.',
      inputSchema: z.object({ message: z.string().min(1).default('Fill the matrix form') }),
    },
    ({ message }, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, FORM_KEY);
      if (answer.kind === 'elicit')
        return structured({ action: answer.action, content: answer.content ?? null });
      return inputRequired({
        inputRequests: { [FORM_KEY]: inputRequired.elicit({ message, requestedSchema: MATRIX_FORM }) },
      });
    },
  );

  server.registerTool(
    MATRIX_TOOLS.sampling,
    {
      title: 'Sample',
      description: 'Asks the client to sample a message (input_required); returns its text.',
      inputSchema: z.object({
        prompt: z.string().min(1),
        maxTokens: z.number().int().min(1).max(4096).default(100),
      }),
    },
    ({ prompt, maxTokens }, ctx) => {
      const answer = inputResponse(ctx.mcpReq.inputResponses, SAMPLE_KEY);
      if (answer.kind === 'sampling') {
        const content = answer.result.content;
        const text =
          !Array.isArray(content) && content.type === 'text' ? content.text : JSON.stringify(content);
        return { content: [{ type: 'text', text }] };
      }
      return inputRequired({
        inputRequests: {
          [SAMPLE_KEY]: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
            maxTokens,
          }),
        },
      });
    },
  );
}

/** A new 2026-07-28 fixture server; `createMcpHandler` calls this once per request. */
export function createModernEraServer(): McpServer {
  const server = new McpServer(
    { name: `meshgate-era-${MODERN_ERA}`, title: `Meshgate ${MODERN_ERA} fixture`, version: '1.0.0' },
    { capabilities: { tools: {}, resources: {}, prompts: {} } },
  );
  registerTools(server);
  server.registerResource(
    'text',
    MATRIX_RESOURCE_URI,
    { title: 'Static text', description: 'A fixed UTF-8 text.', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: MATRIX_RESOURCE_TEXT }] }),
  );
  server.registerPrompt(
    MATRIX_PROMPT,
    {
      title: 'Greeting',
      description: 'Asks for a greeting of `name` in a `style`.',
      argsSchema: z.object({
        name: z.string().min(1),
        style: z.enum(['formal', 'casual', 'pirate']).optional(),
      }),
    },
    ({ name, style }) => getPrompt(MATRIX_PROMPT, { name, ...(style === undefined ? {} : { style }) }),
  );
  return server;
}
