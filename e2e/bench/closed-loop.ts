/**
 * One benchmark cell: N sessions, each a closed loop of tools/call on its own keep-alive connection. The
 * first calls (warm-up, shared by all sessions) are not measured; then every call that starts and ends
 * inside a fixed window is a sample. Any failed call stops the cell with its error.
 */
import { Agent } from 'node:http';
import { McpHttpSession } from './mcp-http-session';
import { summarize, type CellFigures } from './latency-stats';

/** What one cell runs against and for how long. */
export interface CellPlan {
  endpoint: string;
  tool: string;
  /** Sent with every request (the API key of an authenticated Meshgate); `{}` for other targets. */
  headers: Record<string, string>;
  sessions: number;
  warmupCalls: number;
  durationMs: number;
}

const ECHO_TEXT = 'meshgate-bench';

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Opens `plan.sessions` sessions, runs the warm-up and the measured window, and returns the figures. */
export async function runCell(plan: CellPlan): Promise<CellFigures> {
  const agents = Array.from({ length: plan.sessions }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  try {
    const sessions = await Promise.all(agents.map((agent) => McpHttpSession.open(plan.endpoint, agent, plan.headers)));
    const samples: number[] = [];
    let phase: 'warmup' | 'measure' | 'done' = 'warmup';
    let warmed = 0;
    let windowStartUs = 0;
    let windowEndUs = 0;
    let timer: NodeJS.Timeout | undefined;

    const startWindow = (): void => {
      phase = 'measure';
      windowStartUs = nowUs();
      timer = setTimeout(() => {
        phase = 'done';
        windowEndUs = nowUs();
      }, plan.durationMs);
    };

    const loop = async (session: McpHttpSession): Promise<void> => {
      while (phase !== 'done') {
        const measured = phase === 'measure';
        const t0 = nowUs();
        await session.callTool(plan.tool, ECHO_TEXT);
        const t1 = nowUs();
        if (measured && phase === 'measure') samples.push(t1 - t0);
        else if (phase === 'warmup' && ++warmed >= plan.warmupCalls) startWindow();
      }
    };

    if (plan.warmupCalls <= 0) startWindow();
    try {
      await Promise.all(sessions.map(loop));
    } catch (error) {
      phase = 'done';
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return summarize(samples, (windowEndUs - windowStartUs) / 1000);
  } finally {
    for (const agent of agents) agent.destroy();
  }
}
