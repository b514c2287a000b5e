/**
 * `createSessionEraServer`: an SDK v1 low-level `Server` (one per connection) that offers only what one
 * initialize era (2024-11-05 .. 2025-11-25) can express. It reuses the feature fixture's `add`, `progress`
 * and `sample` tools, its `fixture://text` resource and its `greet` prompt, and drops from them what the
 * era lacks: titles and structured output before 2025-06-18, the progress `message` in 2024-11-05. From
 * 2025-06-18 it adds a form elicitation tool. The runner makes it answer initialize with its era alone.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Prompt,
  type Resource,
} from '@modelcontextprotocol/sdk/types.js';
import { contentTools } from '../fixtures/content-tools';
import { clientRequestTools } from '../fixtures/client-request-tools';
import { streamTools } from '../fixtures/stream-tools';
import { STATIC_RESOURCES, readResource } from '../fixtures/feature-resources';
import { PROMPTS, getPrompt } from '../fixtures/feature-prompts';
import type { FeatureState } from '../fixtures/feature-state';
import {
  defineTool,
  structuredResult,
  type Connection,
  type FixtureTool,
  type ToolContext,
} from '../fixtures/fixture-tool';
import {
  hasElicitation,
  hasProgressMessage,
  hasStructuredOutput,
  hasTitles,
  type InitializeEra,
} from './matrix-eras';
import { MATRIX_FORM, MATRIX_PROMPT, MATRIX_RESOURCE_URI, MATRIX_TOOLS } from './matrix-fixture-spec';

/** The feature fixture's tool called `name`; throws when it has none (a fixture wiring mistake). */
function fixtureTool(name: string): FixtureTool {
  const tool = [...contentTools, ...clientRequestTools, ...streamTools].find(
    (candidate) => candidate.definition.name === name,
  );
  if (!tool) throw new Error(`the feature fixture has no tool ${name}`);
  return tool;
}

/** `elicit`: asks for the matrix form and answers with the action and content it got back. */
const elicitForm = defineTool(
  {
    name: MATRIX_TOOLS.elicitation,
    title: 'Elicit',
    description: 'Asks the client to fill a small form (elicitation/create); returns the action and content.',
  },
  z.object({ message: z.string().min(1).default('Fill the matrix form') }),
  async ({ message }, { extra }) => {
    const answer = await extra.sendRequest(
      { method: 'elicitation/create', params: { message, requestedSchema: MATRIX_FORM } },
      ElicitResultSchema,
    );
    return structuredResult({ action: answer.action, content: answer.content ?? null });
  },
);

/** Tool context whose progress notifications carry no `message` (2024-11-05 has none). */
function withoutProgressMessages(ctx: ToolContext): ToolContext {
  return {
    ...ctx,
    extra: {
      ...ctx.extra,
      sendNotification: (notification) => {
        if (notification.method !== 'notifications/progress') return ctx.extra.sendNotification(notification);
        const { message: _message, ...params } = notification.params;
        return ctx.extra.sendNotification({ ...notification, params });
      },
    },
  };
}

/** `tool` as a server of `era` lists and answers it. */
function toolOfEra(tool: FixtureTool, era: InitializeEra): FixtureTool {
  const { title, outputSchema, ...definition } = tool.definition;
  return {
    definition: {
      ...definition,
      ...(hasTitles(era) && title !== undefined ? { title } : {}),
      ...(hasStructuredOutput(era) && outputSchema !== undefined ? { outputSchema } : {}),
    },
    async call(args, ctx) {
      const result = await tool.call(args, hasProgressMessage(era) ? ctx : withoutProgressMessages(ctx));
      if (hasStructuredOutput(era)) return result;
      const { structuredContent: _structured, ...older } = result;
      return older;
    },
  };
}

/** The tools a server of `era` offers. */
export function sessionEraTools(era: InitializeEra): FixtureTool[] {
  const tools = [
    fixtureTool(MATRIX_TOOLS.structured),
    fixtureTool(MATRIX_TOOLS.progress),
    fixtureTool(MATRIX_TOOLS.sampling),
    ...(hasElicitation(era) ? [elicitForm] : []),
  ];
  return tools.map((tool) => toolOfEra(tool, era));
}

/** An entry of resources/list or prompts/list without its title where the era has none. */
function titledFor<T extends { title?: string | undefined }>(entry: T, era: InitializeEra): T {
  if (hasTitles(era)) return entry;
  const { title: _title, ...rest } = entry;
  return rest as T;
}

function listedResource(era: InitializeEra): Resource {
  const resource = STATIC_RESOURCES.find((candidate) => candidate.uri === MATRIX_RESOURCE_URI);
  if (!resource) throw new Error(`the feature fixture has no resource ${MATRIX_RESOURCE_URI}`);
  const { annotations: _annotations, size: _size, ...plain } = resource;
  return titledFor(plain, era);
}

function listedPrompt(era: InitializeEra): Prompt {
  const prompt = PROMPTS.find((candidate) => candidate.name === MATRIX_PROMPT);
  if (!prompt) throw new Error(`the feature fixture has no prompt ${MATRIX_PROMPT}`);
  return titledFor(prompt, era);
}

/** A new era fixture `Server` for one connection; `state` is shared by the runner's connections. */
export function createSessionEraServer(era: InitializeEra, state: FeatureState): Server {
  const tools = sessionEraTools(era);
  const connection: Connection = {
    id: randomUUID(),
    logLevel: undefined,
    subscriptions: new Set(),
    rootsListChanged: 0,
  };
  const server = new Server(
    {
      name: `meshgate-era-${era}`,
      version: '1.0.0',
      ...(hasTitles(era) ? { title: `Meshgate ${era} fixture` } : {}),
    },
    { capabilities: { tools: {}, resources: {}, prompts: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: tools.map((tool) => tool.definition) }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const tool = tools.find((candidate) => candidate.definition.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    return tool.call(request.params.arguments ?? {}, { server, state, connection, extra });
  });
  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: [listedResource(era)] }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => readResource(request.params.uri, state));
  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: [listedPrompt(era)] }));
  server.setRequestHandler(GetPromptRequestSchema, (request) => {
    if (request.params.name !== MATRIX_PROMPT)
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`);
    return getPrompt(request.params.name, request.params.arguments);
  });
  return server;
}
