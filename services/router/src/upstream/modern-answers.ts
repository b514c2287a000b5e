/**
 * What an agent gets for a call a modern (2026-07-28) upstream answered, in its own era: a modern agent
 * gets the answer untouched (`input_required` included: it retries itself); a session-era agent never sees
 * `input_required` (the gateway runs the input rounds for it, input-rounds) and gets results without the
 * stateless-only fields and errors with codes of its era (libs/mcp modern-upstream).
 */
import { ErrorCodes } from '@meshgate/contracts';
import {
  InputRequiredMethods,
  LatestSessionVersion,
  ModernProtocolVersion,
  clientCannotAnswer,
  errorFromModernUpstream,
  isInputRequired,
  resultFromModernUpstream,
} from '@meshgate/mcp';
import { inputRounds, type InputRoundDeps } from './input-rounds';
import type { Outcome } from './relay-table';

/** What the connection knows of the agent behind a call. */
export interface AgentView {
  /** The protocol version the agent negotiated (2026-07-28 for a stateless agent). */
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
}

/** The answer to `method` for `agent` (unknown agents are treated as of the latest session era). */
export async function modernAnswer(
  method: string,
  params: Record<string, unknown> | undefined,
  first: Outcome,
  agent: AgentView | undefined,
  deps: Omit<InputRoundDeps, 'cannot'>,
  deadline: number,
): Promise<Outcome> {
  const version = agent?.protocolVersion ?? LatestSessionVersion;
  if (version >= ModernProtocolVersion) return first;
  let out = first;
  if ('result' in out && isInputRequired(out.result))
    out = InputRequiredMethods.includes(method)
      ? await inputRounds(
          method,
          params,
          out.result,
          {
            ...deps,
            cannot: (request) =>
              clientCannotAnswer(request.method, agent?.clientCapabilities ?? {}, request.params),
          },
          deadline,
        )
      : {
          error: {
            code: ErrorCodes.InternalError,
            message: `the upstream asked for input on ${method}, which cannot take any`,
          },
        };
  return 'result' in out
    ? { result: resultFromModernUpstream(out.result, version) }
    : { error: errorFromModernUpstream(out.error, version) };
}
