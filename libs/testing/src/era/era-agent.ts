/**
 * The era agent: one MCP client pinned to one protocol era, seen through the few operations a matrix
 * cell uses. Each era's agent answers sampling (and, where its era has it, form elicitation)
 * deterministically (matrix-fixture-spec.ts) and records the progress notifications it receives, so a
 * cell can tell that a value went all the way to the agent and back. Results are parsed with the SDK v1
 * schemas whichever SDK the agent runs on, so every era is checked against one shape.
 */
import type {
  CallToolResult,
  GetPromptResult,
  ReadResourceResult,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { isModernEra, type MatrixEra } from './matrix-eras';
import { connectModernEraAgent } from './modern-era-agent';
import { connectSessionEraAgent } from './session-era-agent';

/** A connected era agent. */
export interface EraAgent {
  readonly era: MatrixEra;
  /** The version the endpoint agreed on: the initialize result's, or the one negotiated by discovery. */
  readonly negotiatedVersion: string | undefined;
  listTools(): Promise<Tool[]>;
  /** Calls tool `name`; with `progressToken`, the request carries the agent's own token. */
  callTool(name: string, args: Record<string, unknown>, progressToken?: string): Promise<CallToolResult>;
  readResource(uri: string): Promise<ReadResourceResult>;
  getPrompt(name: string, args: Record<string, string>): Promise<GetPromptResult>;
  /** The `progress` values of every notification received for `token`, in arrival order. */
  progressFor(token: string): number[];
  close(): Promise<void>;
}

/** Options of {@link connectEraAgent}. */
export interface EraAgentOptions {
  /** Bound on the handshake (the agent is closed when it runs late) and on every request (default 15 s). */
  timeoutMs?: number;
}

/**
 * Connects an agent of `era` to `url`: `.../sse` (legacy HTTP+SSE) for 2024-11-05, a Streamable HTTP
 * endpoint otherwise. Rejects when the handshake fails or exceeds the timeout.
 */
export function connectEraAgent(era: MatrixEra, url: string, opts: EraAgentOptions = {}): Promise<EraAgent> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return isModernEra(era)
    ? connectModernEraAgent(url, timeoutMs)
    : connectSessionEraAgent(era, url, timeoutMs);
}
