/**
 * The audit API's problem details: the shared RFC 9457 handling of libs/http, with the archive's own
 * errors (a cursor it did not issue) mapped and "the audit archive" named when NATS cannot be reached.
 */
import type { FastifyInstance } from 'fastify';
import {
  HttpProblem,
  installProblemHandling as install,
  toProblem as toHttpProblem,
  type ProblemMapping,
} from '@meshgate/http';
import { InvalidCursor } from '@meshgate/store';

export { HttpProblem, sendProblem } from '@meshgate/http';

const mapping: ProblemMapping = {
  domain: (err) =>
    err instanceof InvalidCursor ? new HttpProblem(400, `cursor: ${err.message}`) : undefined,
  unreachable: 'the audit archive',
};

/** Turns any error into the problem the client sees. */
export const toProblem = (err: unknown): HttpProblem => toHttpProblem(err, mapping);

/** Makes every error and every unknown route of `app` answer with problem details. */
export const installProblemHandling = (app: FastifyInstance): void => install(app, mapping);
