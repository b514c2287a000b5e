/**
 * One cell of the era matrix: an agent of one era talks to an endpoint that serves the fixture of one
 * upstream era, and every feature of MATRIX_FEATURES is checked in turn. Each check ends as pass, fail
 * (with a short reason) or n/a (with the spec reason, when one of the two eras cannot express it). Every
 * step is bounded; a failed handshake fails the remaining checks at once; the agent is always closed, so
 * one cell never holds up another.
 */
import { isDeepStrictEqual } from 'node:util';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectEraAgent, type EraAgent } from './era-agent';
import {
  MATRIX_FEATURES,
  hasStructuredOutput,
  isModernEra,
  notExpressible,
  type MatrixEra,
  type MatrixFeature,
} from './matrix-eras';
import {
  MATRIX_FORM_ANSWER,
  MATRIX_PROMPT,
  MATRIX_PROMPT_ARGS,
  MATRIX_PROMPT_TEXT,
  MATRIX_RESOURCE_TEXT,
  MATRIX_RESOURCE_URI,
  MATRIX_TOOLS,
  STRUCTURED_ARGS,
  STRUCTURED_VALUE,
  matrixToolNames,
  samplingAnswer,
} from './matrix-fixture-spec';
import { boundedBy, shortReason } from './bounded';

/** How one check of a cell ended. */
export type CheckOutcome =
  { status: 'pass' } | { status: 'fail'; reason: string } | { status: 'n/a'; reason: string };

/** Every check of one cell. */
export interface CellResult {
  agent: MatrixEra;
  upstream: MatrixEra;
  checks: Record<MatrixFeature, CheckOutcome>;
}

/** Where and how a cell runs. */
export interface CellTarget {
  agent: MatrixEra;
  upstream: MatrixEra;
  /** The endpoint the agent connects to (legacy SSE URL for a 2024-11-05 agent). */
  url: string;
  /** Bound on each step (default 20 s). */
  stepTimeoutMs?: number;
}

/** Why the checks after a failed handshake fail. */
export const NOT_CONNECTED = 'not connected (handshake failed)';

/** Steps after the handshake: each throws why its feature failed. */
type Step = (agent: EraAgent) => Promise<void>;

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected))
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function texts(result: CallToolResult): string[] {
  return result.content.flatMap((block) => (block.type === 'text' ? [block.text] : []));
}

/** Throws with the tool's own text when the call answered a tool error. */
function expectToolSuccess(result: CallToolResult): void {
  if (result.isError === true) throw new Error(`tool error: ${texts(result).join(' ') || 'no text'}`);
}

/** The value of a JSON text block of `result` equal to `expected`, or the texts it had instead. */
function expectJsonText(result: CallToolResult, expected: unknown, what: string): void {
  const parsed = texts(result).map((text) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  });
  if (!parsed.some((value) => isDeepStrictEqual(value, expected)))
    throw new Error(
      `${what}: no text block holds ${JSON.stringify(expected)} (texts: ${JSON.stringify(texts(result))})`,
    );
}

/** The structured value of a result: its structuredContent when the agent's era reads it, else its JSON text. */
function expectValue(result: CallToolResult, agent: MatrixEra, expected: unknown, what: string): void {
  if (hasStructuredOutput(agent) && result.structuredContent !== undefined)
    expectEqual(result.structuredContent, expected, `${what} structuredContent`);
  else expectJsonText(result, expected, what);
}

function steps(agentEra: MatrixEra, upstream: MatrixEra): Record<Exclude<MatrixFeature, 'handshake'>, Step> {
  const bothStructured = hasStructuredOutput(agentEra) && hasStructuredOutput(upstream);
  return {
    'tools/list': async (agent) => {
      const tools = await agent.listTools();
      const names = tools.map((tool) => tool.name);
      const missing = matrixToolNames(upstream).filter((name) => !names.includes(name));
      if (missing.length > 0)
        throw new Error(`missing tools ${missing.join(', ')} (listed: ${names.join(', ')})`);
      const add = tools.find((tool) => tool.name === MATRIX_TOOLS.structured);
      if (bothStructured && add?.outputSchema === undefined)
        throw new Error(`${MATRIX_TOOLS.structured} lost its outputSchema`);
      if (!hasStructuredOutput(agentEra) && add?.outputSchema !== undefined)
        throw new Error(`an agent of ${agentEra} was sent an outputSchema`);
    },
    'structured output': async (agent) => {
      const result = await agent.callTool(MATRIX_TOOLS.structured, STRUCTURED_ARGS);
      expectToolSuccess(result);
      if (bothStructured) return expectEqual(result.structuredContent, STRUCTURED_VALUE, 'structuredContent');
      if (!hasStructuredOutput(agentEra) && result.structuredContent !== undefined)
        throw new Error(`an agent of ${agentEra} was sent structuredContent`);
      expectJsonText(result, STRUCTURED_VALUE, 'JSON as text');
    },
    'resources/read': async (agent) => {
      const result = await agent.readResource(MATRIX_RESOURCE_URI);
      const first = result.contents[0];
      expectEqual(first?.uri, MATRIX_RESOURCE_URI, 'uri');
      expectEqual(first && 'text' in first ? first.text : undefined, MATRIX_RESOURCE_TEXT, 'text');
    },
    'prompts/get': async (agent) => {
      const result = await agent.getPrompt(MATRIX_PROMPT, MATRIX_PROMPT_ARGS);
      const content = result.messages[0]?.content;
      expectEqual(content?.type === 'text' ? content.text : content, MATRIX_PROMPT_TEXT, 'first message');
    },
    progress: async (agent) => {
      const token = `progress ${agentEra} > ${upstream}`;
      const result = await agent.callTool(MATRIX_TOOLS.progress, { steps: 3, intervalMs: 10 }, token);
      expectToolSuccess(result);
      expectEqual(texts(result), ['sent 3 progress notifications'], 'tool text');
      // Notifications travel before the response on the same stream; allow a moment for late dispatch.
      const deadline = Date.now() + 2000;
      while (agent.progressFor(token).length < 3 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expectEqual(agent.progressFor(token), [1, 2, 3], `progress on the agent's token`);
    },
    elicitation: async (agent) => {
      const result = await agent.callTool(MATRIX_TOOLS.elicitation, {});
      expectToolSuccess(result);
      expectValue(result, agentEra, { action: 'accept', content: MATRIX_FORM_ANSWER }, 'elicitation answer');
    },
    sampling: async (agent) => {
      const prompt = `cell ${agentEra} > ${upstream}`;
      const result = await agent.callTool(MATRIX_TOOLS.sampling, { prompt });
      expectToolSuccess(result);
      expectEqual(texts(result), [samplingAnswer(agentEra, prompt)], 'sampled text');
    },
  };
}

/**
 * Connects an agent of `era` to `url` within `timeoutMs` and checks that it agreed on its own era; throws
 * why not (the agent is closed then).
 */
export async function connectCheckedAgent(era: MatrixEra, url: string, timeoutMs: number): Promise<EraAgent> {
  const agent = await connectEraAgent(era, url, { timeoutMs });
  const expected = era;
  if (agent.negotiatedVersion !== expected) {
    await agent.close().catch(() => undefined);
    const how = isModernEra(expected) ? 'discovery' : 'initialize';
    throw new Error(`${how} agreed on ${String(agent.negotiatedVersion)}, not ${expected}`);
  }
  return agent;
}

/** Runs every check of one cell; never throws. */
export async function runCell(target: CellTarget): Promise<CellResult> {
  const timeoutMs = target.stepTimeoutMs ?? 20_000;
  const { agent: agentEra, upstream } = target;
  const checks = {} as Record<MatrixFeature, CheckOutcome>;
  let agent: EraAgent | undefined;
  try {
    agent = await connectCheckedAgent(agentEra, target.url, timeoutMs);
    checks.handshake = { status: 'pass' };
  } catch (error) {
    checks.handshake = { status: 'fail', reason: shortReason(error) };
  }
  const cellSteps = steps(agentEra, upstream);
  for (const feature of MATRIX_FEATURES) {
    if (feature === 'handshake') continue;
    const na = notExpressible(feature, agentEra, upstream);
    if (na !== undefined) checks[feature] = { status: 'n/a', reason: na };
    else if (agent === undefined) checks[feature] = { status: 'fail', reason: NOT_CONNECTED };
    else {
      const connected = agent;
      try {
        await boundedBy(cellSteps[feature](connected), timeoutMs, 'the check');
        checks[feature] = { status: 'pass' };
      } catch (error) {
        checks[feature] = { status: 'fail', reason: shortReason(error) };
      }
    }
  }
  if (agent) await boundedBy(agent.close(), timeoutMs, 'close').catch(() => undefined);
  return { agent: agentEra, upstream, checks };
}
