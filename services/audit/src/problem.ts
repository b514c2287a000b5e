/**
 * The audit API's problem details: the shared RFC 9457 handling of libs/http, with the archive's own
 * errors (a cursor it did not issue) mapped and "the audit archive" named when NATS cannot be reached.
 */
import { HttpProblem, type ProblemMapping } from '@meshgate/http';
import { InvalidCursor } from '@meshgate/store';

export { HttpProblem } from '@meshgate/http';

/** The mapping the API app is built with (see libs/http). */
export const problemMapping: ProblemMapping = {
  domain: (err) =>
    err instanceof InvalidCursor ? new HttpProblem(400, `cursor: ${err.message}`) : undefined,
  unreachable: 'the audit archive',
};
