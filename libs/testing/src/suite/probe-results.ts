/**
 * Small readers the suite and its callers share: the first text block and the structured content of a
 * tool result, and a bounded wait for a condition.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The text of the first content block of a tool result; throws when that block is not text. */
export function firstText(result: unknown): string {
  const block = (result as CallToolResult).content[0];
  if (block?.type !== 'text') throw new Error(`first block is not text: ${JSON.stringify(block)}`);
  return block.text;
}

/** The structured content of a tool result; throws when there is none. */
export function structured(result: unknown): Record<string, unknown> {
  const value = (result as CallToolResult).structuredContent;
  if (value === undefined) throw new Error(`no structuredContent in ${JSON.stringify(result)}`);
  return value;
}

/** Polls `check` every 10 ms until it is true; rejects after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
