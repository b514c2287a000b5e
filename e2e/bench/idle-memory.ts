/**
 * Memory of idle sessions: the resident set of a gateway process before and after N sessions are opened
 * (initialize + notifications/initialized, then nothing). Sessions are opened over a small pool of
 * keep-alive connections, so the figure is session state, not one socket per session.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { McpHttpSession } from './mcp-http-session';

const OPEN_CONCURRENCY = 32;
const WARMUP_SESSIONS = 200;
const SETTLE_MS = 1000;

/** RSS before and after, in KB. */
export interface IdleMemory {
  sessions: number;
  beforeKb: number;
  afterKb: number;
}

/** The resident set size of `pid` in KB, from /proc (Linux). */
export function readRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

async function openSessions(
  endpoint: string,
  headers: Record<string, string>,
  count: number,
  agent: Agent,
  tool?: string,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const session = await McpHttpSession.open(endpoint, agent, headers);
      if (tool) await session.callTool(tool, 'warm-up');
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker));
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/**
 * Warms the process up with a few sessions that each make one call (JIT, pools, buffers), reads its RSS,
 * opens `count` idle sessions, lets it settle, and reads its RSS again. Every request carries `headers`.
 */
export async function measureIdleMemory(
  pid: number,
  endpoint: string,
  headers: Record<string, string>,
  tool: string,
  count: number,
): Promise<IdleMemory> {
  const agent = new Agent({ keepAlive: true, maxSockets: OPEN_CONCURRENCY });
  try {
    await openSessions(endpoint, headers, WARMUP_SESSIONS, agent, tool);
    await settle();
    const beforeKb = readRssKb(pid);
    await openSessions(endpoint, headers, count, agent);
    await settle();
    return { sessions: count, beforeKb, afterKb: readRssKb(pid) };
  } finally {
    agent.destroy();
  }
}
