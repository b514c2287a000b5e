/**
 * Multi round-trip requests for a session-era agent (it has no `input_required` vocabulary): while a modern
 * upstream answers tools/call, prompts/get or resources/read with `input_required`, every embedded input
 * request is put to the agent as a real server-to-client request (elicitation/create,
 * sampling/createMessage, roots/list), all at once, and the upstream request is sent again (a new id) with
 * the collected `inputResponses` and the echoed `requestState`. Bounded by a number of rounds and by the
 * call's deadline. An agent that lacks the capability an input needs, or answers one with an error, ends
 * the call with a clear error; it never sees `input_required` itself.
 */
import { ErrorCodes } from '@meshgate/contracts';
import {
  inputRequestParams,
  inputRequiredOf,
  isInputRequired,
  retryParams,
  type InputRequest,
} from '@meshgate/mcp';
import type { Outcome } from './relay-table';

/** Most rounds of input one call may take. */
export const MaxInputRounds = 8;
/** Most input requests one round may embed. */
export const MaxInputRequests = 16;

/** What the rounds act through. */
export interface InputRoundDeps {
  /** Sends the request upstream again with `params`. */
  retry(params: Record<string, unknown>, timeoutMs: number): Promise<Outcome>;
  /** Puts one input request to the agent (as `method` with `params`); resolves with its answer or an error. */
  ask(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<Outcome>;
  /** Why the agent cannot answer `request` (a capability it did not declare), or null. */
  cannot(request: InputRequest): string | null;
  /** A fresh id for a URL-mode elicitation (2025-11-25 agents expect one). */
  elicitationId(): string;
}

function failure(code: number, message: string): Outcome {
  return { error: { code, message } };
}

/**
 * Runs the input rounds of `method` called with `params`, starting from the upstream's `first` result,
 * until a result that needs no input, an error, or a bound; by `deadline` (epoch ms).
 */
export async function inputRounds(
  method: string,
  params: Record<string, unknown> | undefined,
  first: Record<string, unknown>,
  deps: InputRoundDeps,
  deadline: number,
): Promise<Outcome> {
  let result = first;
  for (let round = 1; isInputRequired(result); round++) {
    if (round > MaxInputRounds)
      return failure(
        ErrorCodes.InternalError,
        `${method}: the upstream still asked for input after ${MaxInputRounds} rounds`,
      );
    const parsed = inputRequiredOf(result);
    if (!parsed)
      return failure(
        ErrorCodes.InternalError,
        `${method}: the upstream sent an invalid input_required result`,
      );
    const { requests, requestState } = parsed;
    if (requests.length > MaxInputRequests)
      return failure(
        ErrorCodes.InternalError,
        `${method}: the upstream asked for more than ${MaxInputRequests} inputs at once`,
      );
    for (const [, request] of requests) {
      const why = deps.cannot(request);
      if (why !== null)
        return failure(
          ErrorCodes.InvalidParams,
          `${method} needs ${request.method} from the client, but ${why}`,
        );
    }
    const answers = await Promise.all(
      requests.map(([, request]) =>
        deps.ask(request.method, inputRequestParams(request, deps.elicitationId()), deadline - Date.now()),
      ),
    );
    const failed = answers.find((answer) => 'error' in answer);
    if (failed) return failed;
    // fromEntries defines own keys: an upstream's key such as `__proto__` stays a plain key.
    const responses = Object.fromEntries(
      requests.map(([key], i) => [key, (answers[i] as { result: Record<string, unknown> }).result]),
    );
    const left = deadline - Date.now();
    if (left <= 0) return failure(ErrorCodes.RequestTimeout, `${method}: no answer in time`);
    const out = await deps.retry(retryParams(params, responses, requestState), left);
    if ('error' in out) return out;
    result = out.result;
  }
  return { result };
}
