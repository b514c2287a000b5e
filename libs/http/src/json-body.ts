/**
 * The one JSON body parser of Meshgate's admin APIs, for plugins mounted on an app whose own parsers must not
 * apply (ingress keeps raw bodies for MCP): `application/json` only (anything else is Fastify's 415), at most
 * `bodyLimit` bytes (413), strict UTF-8 and JSON (400 problem details saying which). An empty body parses as
 * `undefined`, so that the route's schema names what is missing.
 */
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './problem';

/** Replaces the content-type parsers of `app` (a plugin scope) with the JSON parser. */
export function installJsonBody(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body as Buffer);
    } catch {
      return done(new HttpProblem(400, 'the body is not valid UTF-8'), undefined);
    }
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (err) {
      done(new HttpProblem(400, `the body is not JSON: ${(err as Error).message.slice(0, 200)}`), undefined);
    }
  });
}
