/**
 * The keys admin API's problem details: the shared RFC 9457 handling of libs/http, with the key store's
 * own errors mapped (a conflicting change 409, invalid input 400) and "the key store" named when NATS
 * cannot be reached.
 */
import { HttpProblem, toProblem as toHttpProblem, type ProblemMapping } from '@meshgate/http';
import { ApiKeyConflict, InvalidApiKeyInput } from './api-key-store';

export { HttpProblem, sendProblem } from '@meshgate/http';

const mapping: ProblemMapping = {
  domain: (err) => {
    if (err instanceof ApiKeyConflict) return new HttpProblem(409, err.message);
    if (err instanceof InvalidApiKeyInput) return new HttpProblem(400, err.message);
    return undefined;
  },
  unreachable: 'the key store',
};

/** Turns any error into the problem the client sees. */
export const toProblem = (err: unknown): HttpProblem => toHttpProblem(err, mapping);
