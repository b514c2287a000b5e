/**
 * The registry API's problem details: the shared RFC 9457 handling of libs/http, "the catalogue" named
 * when NATS cannot be reached, and field-level problems (`errors`: a JSON pointer into the body and a
 * detail each, as RFC 9457 suggests) for invalid server definitions.
 */
import { HttpProblem, type ProblemMapping } from '@meshgate/http';

export { HttpProblem } from '@meshgate/http';

/** One field-level problem of a request: a JSON pointer into the body and a detail. */
export interface FieldProblem {
  pointer: string;
  detail: string;
}

/** A 400 naming each invalid field (at most 50). */
export function invalidFields(detail: string, errors: FieldProblem[]): HttpProblem {
  return new HttpProblem(400, detail, { errors: errors.slice(0, 50) });
}

/** The mapping the API app is built with (see libs/http). */
export const problemMapping: ProblemMapping = { unreachable: 'the catalogue' };
