/**
 * The registry API's problem details: the shared RFC 9457 handling of libs/http, "the catalogue" named
 * when NATS cannot be reached, and field-level problems (`errors`: a JSON pointer into the body and a
 * detail each, as RFC 9457 suggests) for invalid server definitions.
 */
import type { FastifyInstance } from 'fastify';
import {
  HttpProblem,
  installProblemHandling as install,
  toProblem as toHttpProblem,
  type ProblemMapping,
} from '@meshgate/http';

export { HttpProblem, sendProblem } from '@meshgate/http';

/** One field-level problem of a request: a JSON pointer into the body and a detail. */
export interface FieldProblem {
  pointer: string;
  detail: string;
}

/** A 400 naming each invalid field (at most 50). */
export function invalidFields(detail: string, errors: FieldProblem[]): HttpProblem {
  return new HttpProblem(400, detail, { errors: errors.slice(0, 50) });
}

const mapping: ProblemMapping = { unreachable: 'the catalogue' };

/** Turns any error into the problem the client sees. */
export const toProblem = (err: unknown): HttpProblem => toHttpProblem(err, mapping);

/** Makes every error and every unknown route of `app` answer with problem details. */
export const installProblemHandling = (app: FastifyInstance): void => install(app, mapping);
